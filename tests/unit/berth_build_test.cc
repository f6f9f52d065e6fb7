// Unit tests of the `berth build` front end's Dockerfile parser: every
// instruction is rendered with all its fields, so a test states the exact
// structure it expects. word_expansion_test.cc and dockerignore_test.cc hold
// the rest of this binary.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "berth/build/dockerfile.h"

namespace {

using berth::build::Dockerfile;
using berth::build::Instruction;
using berth::build::parse_dockerfile;

std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

// KEYWORD@LINE-END flags{...} json args[...] raw<...> pairs{...} as:stage
// heredoc(NAME fd expand/noexpand tabs)<content> inner{...}
std::string describe(const Instruction& i) {
  std::string d = i.keyword + "@" + std::to_string(i.line) + "-" + std::to_string(i.end_line);
  if (!i.flags.empty()) {
    d += " flags{";
    for (size_t k = 0; k < i.flags.size(); ++k) {
      d += (k ? " " : "") + i.flags[k].name;
      if (i.flags[k].has_value) d += "=" + i.flags[k].value;
    }
    d += "}";
  }
  if (i.json) d += " json";
  if (!i.args.empty() || i.json) {
    d += " args[";
    for (size_t k = 0; k < i.args.size(); ++k) d += (k ? "|" : "") + i.args[k];
    d += "]";
  }
  d += " raw<" + escaped(i.raw) + ">";
  if (!i.pairs.empty()) {
    d += " pairs{";
    for (size_t k = 0; k < i.pairs.size(); ++k) {
      d += (k ? "|" : "") + i.pairs[k].key;
      if (i.pairs[k].has_value) d += "=" + i.pairs[k].value;
    }
    d += "}";
  }
  if (!i.stage.empty()) d += " as:" + i.stage;
  for (const auto& h : i.heredocs) {
    d += " heredoc(" + h.name + (h.fd ? " fd" + std::to_string(h.fd) : "") +
         (h.expand ? "" : " noexpand") + (h.strip_tabs ? " tabs" : "") + ")<" + escaped(h.content) +
         ">";
  }
  for (const auto& in : i.inner) d += " inner{" + describe(in) + "}";
  return d;
}

std::vector<std::string> parsed(std::string_view text) {
  auto f = parse_dockerfile(text);
  if (!f) return {"error: " + f.error().message()};
  std::vector<std::string> out;
  for (const auto& i : f->instructions) out.push_back(describe(i));
  return out;
}

std::string error_of(std::string_view text) {
  auto f = parse_dockerfile(text);
  return f ? "parsed" : f.error().message();
}

struct Case {
  const char* name;
  std::string text;
  std::vector<std::string> want;
};

TEST(Dockerfile, ParsesInstructionsExactly) {
  const std::vector<Case> cases = {
      {"plain",
       "FROM alpine\nRUN echo hi\n",
       {"FROM@1-1 args[alpine] raw<alpine>", "RUN@2-2 raw<echo hi>"}},
      {"keywords in any case, leading blanks, stage lower-cased",
       "  from alpine:3 As Build\n\trun  ls -l  \n",
       {"FROM@1-1 args[alpine:3] raw<alpine:3 As Build> as:build", "RUN@2-2 raw<ls -l>"}},
      {"comments, and # inside arguments",
       "# top\nFROM a\n   # indented comment\nRUN echo 'we # of' # not a comment\n",
       {"FROM@2-2 args[a] raw<a>", "RUN@4-4 raw<echo 'we # of' # not a comment>"}},
      {"continuation skips comment and blank lines",
       "FROM a\nRUN echo hello \\\n# comment\n\n  world\nRUN next\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-5 raw<echo hello   world>", "RUN@6-6 raw<next>"}},
      {"blanks after the escape still continue",
       "FROM a\nRUN a \\ \t\nb\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-3 raw<a b>"}},
      {"an escaped escape does not continue",
       "FROM a\nRUN echo a\\\\\nRUN b\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-2 raw<echo a\\\\>", "RUN@3-3 raw<b>"}},
      {"continuation at the end of the file ends the instruction",
       "FROM a\nRUN a \\",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-2 raw<a>"}},
      {"a lone escape line joins the next",
       "FROM a\nRUN a\\\n\\\n b\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-4 raw<a b>"}},
      {"backtick escape",
       "# escape=`\nFROM a\nRUN dir c:\\ `\n  && x\nCOPY a c:\\\n",
       {"FROM@2-2 args[a] raw<a>", "RUN@3-4 raw<dir c:\\   && x>",
        "COPY@5-5 args[a|c:\\] raw<a c:\\>"}},
      {"BOM and CRLF",
       "\xEF\xBB\xBF"
       "FROM a\r\nRUN b \\\r\n c\r\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-3 raw<b  c>"}},
      {"exec and shell forms",
       "FROM a\nCMD [\"a\", \"b c\"]\nENTRYPOINT [ \"x\" ]\nRUN [not json\n"
       "RUN [\"c:\\windows\"]\nCMD []\nRUN [\"a\"] && ignored\nSHELL [\"/bin/bash\", \"-c\"]\n",
       {"FROM@1-1 args[a] raw<a>", "CMD@2-2 json args[a|b c] raw<[\"a\", \"b c\"]>",
        "ENTRYPOINT@3-3 json args[x] raw<[ \"x\" ]>", "RUN@4-4 raw<[not json>",
        "RUN@5-5 raw<[\"c:\\windows\"]>", "CMD@6-6 json args[] raw<[]>",
        "RUN@7-7 json args[a] raw<[\"a\"] && ignored>",
        "SHELL@8-8 json args[/bin/bash|-c] raw<[\"/bin/bash\", \"-c\"]>"}},
      {"JSON escapes are decoded",
       "FROM a\nCMD [\"tab\\there\", \"\\u00e9\"]\n",
       {"FROM@1-1 args[a] raw<a>",
        "CMD@2-2 json args[tab\there|\xC3\xA9] raw<[\"tab\\there\", \"\\u00e9\"]>"}},
      {"flags",
       R"(FROM --platform=linux/arm64 alpine AS x
COPY --from=build --chown=1:2 --chmod=755 --link a b /dst/
RUN --mount=type=cache,target=/x --mount=type=secret,id=s --network=none make
ADD --link=false --checksum=sha256:ab --exclude="*.tmp" https://x/y /y
COPY --from="my stage" -- --weird /dst
COPY --parents=TRUE x/ /y
)",
       {"FROM@1-1 flags{platform=linux/arm64} args[alpine] raw<alpine AS x> as:x",
        "COPY@2-2 flags{from=build chown=1:2 chmod=755 link} args[a|b|/dst/] raw<a b /dst/>",
        "RUN@3-3 flags{mount=type=cache,target=/x mount=type=secret,id=s network=none} raw<make>",
        "ADD@4-4 flags{link=false checksum=sha256:ab exclude=*.tmp} args[https://x/y|/y] "
        "raw<https://x/y /y>",
        "COPY@5-5 flags{from=my stage} args[--weird|/dst] raw<--weird /dst>",
        "COPY@6-6 flags{parents=TRUE} args[x/|/y] raw<x/ /y>"}},
      {"ENV, LABEL, ARG keep quotes and escapes",
       R"(ARG base=alpine v
FROM a
ENV A=1 B="x y" C=a\ b
ENV ONE TWO= THREE=world
LABEL "com.example.vendor"="ACME Inc" version=1.0
ARG a b=2 c=
)",
       {"ARG@1-1 raw<base=alpine v> pairs{base=alpine|v}", "FROM@2-2 args[a] raw<a>",
        R"(ENV@3-3 raw<A=1 B="x y" C=a\ b> pairs{A=1|B="x y"|C=a\ b})",
        "ENV@4-4 raw<ONE TWO= THREE=world> pairs{ONE=TWO= THREE=world}",
        R"(LABEL@5-5 raw<"com.example.vendor"="ACME Inc" version=1.0> )"
        R"(pairs{"com.example.vendor"="ACME Inc"|version=1.0})",
        "ARG@6-6 raw<a b=2 c=> pairs{a|b=2|c=}"}},
      {"one-argument instructions take the whole text",
       "FROM a\nUSER app:staff\nWORKDIR /a b\nSTOPSIGNAL SIGKILL\nMAINTAINER Me <m@x>\n",
       {"FROM@1-1 args[a] raw<a>", "USER@2-2 args[app:staff] raw<app:staff>",
        "WORKDIR@3-3 args[/a b] raw</a b>", "STOPSIGNAL@4-4 args[SIGKILL] raw<SIGKILL>",
        "MAINTAINER@5-5 args[Me <m@x>] raw<Me <m@x>>"}},
      {"lists",
       "FROM a\nEXPOSE 80/tcp  53/udp\nVOLUME [\"/data\"]\nVOLUME /a /b\n",
       {"FROM@1-1 args[a] raw<a>", "EXPOSE@2-2 args[80/tcp|53/udp] raw<80/tcp  53/udp>",
        "VOLUME@3-3 json args[/data] raw<[\"/data\"]>", "VOLUME@4-4 args[/a|/b] raw</a /b>"}},
      {"HEALTHCHECK",
       "FROM a\nHEALTHCHECK --interval=5m --timeout=3s \\\n  CMD curl -f x || exit 1\n"
       "HEALTHCHECK none\nHEALTHCHECK cmd [\"/bin/check\"]\n",
       {"FROM@1-1 args[a] raw<a>",
        "HEALTHCHECK@2-3 flags{interval=5m timeout=3s} args[CMD] raw<CMD curl -f x || exit 1> "
        "inner{CMD@2-3 raw<curl -f x || exit 1>}",
        "HEALTHCHECK@4-4 args[NONE] raw<none>",
        "HEALTHCHECK@5-5 args[CMD] raw<cmd [\"/bin/check\"]> "
        "inner{CMD@5-5 json args[/bin/check] raw<[\"/bin/check\"]>}"}},
      {"ONBUILD",
       "FROM a\nONBUILD RUN --mount=type=cache,target=/c make\nonbuild copy --from=x a b\n",
       {"FROM@1-1 args[a] raw<a>",
        "ONBUILD@2-2 raw<RUN --mount=type=cache,target=/c make> "
        "inner{RUN@2-2 flags{mount=type=cache,target=/c} raw<make>}",
        "ONBUILD@3-3 raw<copy --from=x a b> inner{COPY@3-3 flags{from=x} args[a|b] raw<a b>}"}},
      {"only ARG before FROM, several stages",
       "ARG V=1\nFROM a:$V AS one\nFROM one\nFROM b AS two\n",
       {"ARG@1-1 raw<V=1> pairs{V=1}", "FROM@2-2 args[a:$V] raw<a:$V AS one> as:one",
        "FROM@3-3 args[one] raw<one>", "FROM@4-4 args[b] raw<b AS two> as:two"}},
  };
  for (const Case& c : cases) EXPECT_EQ(parsed(c.text), c.want) << c.name;
}

TEST(Dockerfile, Heredocs) {
  const std::vector<Case> cases = {
      {"one",
       "FROM a\nRUN <<EOF\necho hi\n  x\nEOF\nRUN b\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-5 raw<<<EOF> heredoc(EOF)<echo hi\\n  x\\n>",
        "RUN@6-6 raw<b>"}},
      {"<<- strips leading tabs, also before the delimiter",
       "FROM a\nRUN <<-EOT bash\n\t\techo a\n\t  b\n\tEOT\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-5 raw<<<-EOT bash> heredoc(EOT tabs)<echo a\\n  b\\n>"}},
      {"quoted delimiters do not expand",
       "FROM a\nCOPY <<\"EOF\" /script.sh\necho ${X}\nEOF\nRUN cat 3<<'X' "
       "<<E\"O\"F\nx\nX\ny\nEOF\n",
       {"FROM@1-1 args[a] raw<a>",
        "COPY@2-4 args[<<\"EOF\"|/script.sh] raw<<<\"EOF\" /script.sh> "
        "heredoc(EOF noexpand)<echo ${X}\\n>",
        "RUN@5-9 raw<cat 3<<'X' <<E\"O\"F> heredoc(X fd3 noexpand)<x\\n> "
        "heredoc(EOF noexpand)<y\\n>"}},
      {"several on one line, in order",
       "FROM a\nRUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\n"
       "second\nFILE2\n",
       {"FROM@1-1 args[a] raw<a>",
        "RUN@2-8 raw<<<FILE1 cat > file1 && <<FILE2 cat > file2> "
        "heredoc(FILE1)<I am\\nfirst\\n> heredoc(FILE2)<I am\\nsecond\\n>"}},
      {"COPY from a heredoc",
       "FROM a\nCOPY <<EOF /greeting.txt\nhello world\nEOF\n",
       {"FROM@1-1 args[a] raw<a>",
        "COPY@2-4 args[<<EOF|/greeting.txt] raw<<<EOF /greeting.txt> heredoc(EOF)<hello "
        "world\\n>"}},
      {"bodies are raw: no comments, no continuations, CRLF kept",
       "FROM a\r\nRUN <<EOF\r\n# kept\r\nline \\\r\n\r\nEOF\r\nRUN z\r\n",
       {"FROM@1-1 args[a] raw<a>",
        "RUN@2-6 raw<<<EOF> heredoc(EOF)<# kept\\r\\nline \\\\r\\n\\r\\n>", "RUN@7-7 raw<z>"}},
      {"a continued instruction line opens it",
       "FROM a\nRUN <<EOF \\\n  cat\nhello\nEOF\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-5 raw<<<EOF   cat> heredoc(EOF)<hello\\n>"}},
      {"ONBUILD of RUN",
       "FROM a\nONBUILD RUN <<EOF\nx\nEOF\n",
       {"FROM@1-1 args[a] raw<a>",
        "ONBUILD@2-4 raw<RUN <<EOF> inner{RUN@2-4 raw<<<EOF> heredoc(EOF)<x\\n>}"}},
      {"not in exec form, not quoted whole, not a here-string, not other instructions",
       "FROM a\nRUN [\"<<EOF\"]\nRUN echo \"<<EOF\" <<<X\nCMD <<EOF\nEOF\n",
       {"error: Dockerfile:5: unknown instruction 'EOF'"}},
      {"an empty body",
       "FROM a\nRUN <<EOF\nEOF\n",
       {"FROM@1-1 args[a] raw<a>", "RUN@2-3 raw<<<EOF> heredoc(EOF)<>"}},
  };
  for (const Case& c : cases) EXPECT_EQ(parsed(c.text), c.want) << c.name;
}

TEST(Dockerfile, DirectivesOnlyAtTheTop) {
  auto f = parse_dockerfile("# syntax=docker/dockerfile:1\n#  ESCAPE = ` \n\nFROM a\n");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->syntax, "docker/dockerfile:1");
  EXPECT_EQ(f->escape, '`');
  // After a comment, a blank line, an instruction or an unknown directive,
  // a directive is only a comment: the escape stays a backslash.
  for (const char* text :
       {"# about\n# escape=`\nFROM a\nRUN a \\\nb\n", "\n# escape=`\nFROM a\nRUN a \\\nb\n",
        "FROM a\n# escape=`\nLABEL x=1\nRUN a \\\nb\n",
        "# foo=bar\n# escape=`\nFROM a\nRUN a \\\nb\n"}) {
    auto g = parse_dockerfile(text);
    ASSERT_TRUE(g) << text;
    EXPECT_EQ(g->escape, '\\') << text;
    EXPECT_EQ(describe(g->instructions.back()), "RUN@4-5 raw<a b>") << text;
  }
}

TEST(Dockerfile, EmptyContinuationLinesWarn) {
  auto f = parse_dockerfile("FROM a\nRUN a \\\n\n   \nb\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->warnings, std::vector<std::string>{"Dockerfile:2: empty continuation line "
                                                  "(docker plans to make these errors)"});
}

TEST(Dockerfile, FlagAccessors) {
  auto f = parse_dockerfile(
      "FROM a\nRUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b x\n"
      "COPY --link --from=s a b\nCOPY --link=False a b\n");
  ASSERT_TRUE(f);
  const auto& run = f->instructions[1];
  EXPECT_EQ(run.flag_values("mount"),
            (std::vector<std::string>{"type=cache,target=/a", "type=tmpfs,target=/b"}));
  EXPECT_EQ(run.flag("network"), nullptr);
  ASSERT_NE(f->instructions[2].flag("from"), nullptr);
  EXPECT_EQ(f->instructions[2].flag("from")->value, "s");
  EXPECT_TRUE(f->instructions[2].flag_enabled("link"));
  EXPECT_FALSE(f->instructions[3].flag_enabled("link"));
}

TEST(Dockerfile, ErrorsNameTheLineAndWhatWasWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"FROM a\nFOO bar", "Dockerfile:2: unknown instruction 'FOO'"},
      {"FROM a\nRUN a \\\n b\nbad x", "Dockerfile:4: unknown instruction 'bad'"},
      {"FROM a\nFO\x1bO x", "Dockerfile:2: unknown instruction 'FO\\x1bO'"},
      {"FROM a\nRUN <<EOF\nhello\n",
       "Dockerfile:2: heredoc <<EOF is not terminated: no line 'EOF' before the end of the file"},
      {"FROM a\nRUN <<-A <<B\n\tA\nno B\n",
       "Dockerfile:2: heredoc <<B is not terminated: no line 'B' before the end of the file"},
      {std::string("FROM a\nRUN a\0b", 14), "Dockerfile:2: NUL byte in the file"},
      {"FROM a\n\\", "Dockerfile:2: a line continuation (\\) with no instruction"},
      {"\\", "Dockerfile:1: a line continuation (\\) with no instruction"},
      {"FROM a\n \\ \n# c\n\n", "Dockerfile:2: a line continuation (\\) with no instruction"},
      {"# escape=x\nFROM a", "Dockerfile:1: escape must be \\ or `, not 'x'"},
      {"# escape=`\n# Escape=\\\nFROM a", "Dockerfile:2: the escape directive is given twice"},
      {"# syntax=a\n# syntax=b\nFROM a", "Dockerfile:2: the syntax directive is given twice"},
      {"RUN x", "Dockerfile:1: RUN before the first FROM (only ARG may come before it)"},
      {"", "Dockerfile: no instructions"},
      {"# only a comment\n\n   \n", "Dockerfile: no instructions"},
      {"ARG a", "Dockerfile: no FROM instruction"},
      {"FROM a AS x\nFROM b AS X", "Dockerfile:2: stage name 'x' is used twice"},
      {"FROM a AS 1x",
       "Dockerfile:1: FROM: stage name '1x' must start with a letter and hold only letters, "
       "digits, - _ ."},
      {"FROM a b", "Dockerfile:1: FROM takes an image, then optionally AS and a stage name"},
      {"FROM", "Dockerfile:1: FROM takes an image, then optionally AS and a stage name"},
      {"FROM a\nCOPY --frm=x a b", "Dockerfile:2: COPY: unknown flag --frm"},
      {"FROM a\nCOPY --from a b", "Dockerfile:2: COPY: --from needs a value (--from=...)"},
      {"FROM a\nCOPY --from=x --from=y a b", "Dockerfile:2: COPY: --from is given twice"},
      {"FROM a\nCOPY --link=maybe a b",
       "Dockerfile:2: COPY: --link takes true or false, not 'maybe'"},
      {"FROM a\nRUN --chown=1 x", "Dockerfile:2: RUN: unknown flag --chown"},
      {"FROM a\nCMD --help", "Dockerfile:2: CMD: unknown flag --help"},
      {"FROM a\nONBUILD --x RUN y", "Dockerfile:2: ONBUILD: unknown flag --x"},
      {"FROM a\nCOPY onlyone",
       "Dockerfile:2: COPY requires at least two arguments: sources and a destination"},
      {"FROM a\nCOPY <<EOF\nx\nEOF",
       "Dockerfile:2: COPY requires at least two arguments: sources and a destination"},
      {"FROM a\nADD [\"a\"]",
       "Dockerfile:2: ADD requires at least two arguments: sources and a destination"},
      {"FROM a\nRUN [\"a\", 1]", "Dockerfile:2: a JSON array (exec form) must hold only strings"},
      {"FROM a\nCMD [[\"a\"]]", "Dockerfile:2: a JSON array (exec form) must hold only strings"},
      {"FROM a\nVOLUME [\"/a\", null]",
       "Dockerfile:2: a JSON array (exec form) must hold only strings"},
      {"FROM a\nVOLUME [\"\"]", "Dockerfile:2: VOLUME requires paths that are not empty"},
      {"FROM a\nVOLUME", "Dockerfile:2: VOLUME requires at least one argument"},
      {"FROM a\nEXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"},
      {"FROM a\nRUN", "Dockerfile:2: RUN requires a command"},
      {"FROM a\nSHELL /bin/sh -c",
       "Dockerfile:2: SHELL requires its arguments in JSON form: SHELL [\"sh\", \"-c\"]"},
      {"FROM a\nSHELL []", "Dockerfile:2: SHELL requires at least one argument"},
      {"FROM a\nENV", "Dockerfile:2: ENV requires at least one argument"},
      {"FROM a\nENV A", "Dockerfile:2: ENV 'A' needs a value (ENV key=value)"},
      {"FROM a\nLABEL A=1 B", "Dockerfile:2: LABEL: 'B' is not of the form key=value"},
      {"FROM a\nENV =1", "Dockerfile:2: ENV: '=1' has an empty key"},
      {"FROM a\nARG =1", "Dockerfile:2: ARG: '=1' has an empty name"},
      {"FROM a\nARG", "Dockerfile:2: ARG requires at least one argument"},
      {"FROM a\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"},
      {"FROM a\nUSER  ", "Dockerfile:2: USER requires exactly one argument"},
      {"FROM a\nONBUILD", "Dockerfile:2: ONBUILD needs an instruction to trigger"},
      {"FROM a\nONBUILD ONBUILD RUN x", "Dockerfile:2: ONBUILD ONBUILD is not allowed"},
      {"FROM a\nONBUILD from b", "Dockerfile:2: ONBUILD FROM is not allowed"},
      {"FROM a\nONBUILD MAINTAINER me", "Dockerfile:2: ONBUILD MAINTAINER is not allowed"},
      {"FROM a\nONBUILD NOPE x", "Dockerfile:2: unknown instruction 'NOPE'"},
      {"FROM a\nHEALTHCHECK", "Dockerfile:2: HEALTHCHECK needs CMD and a command, or NONE"},
      {"FROM a\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"},
      {"FROM a\nHEALTHCHECK RUN x", "Dockerfile:2: HEALTHCHECK 'RUN' is not CMD or NONE"},
      {"FROM a\nHEALTHCHECK CMD", "Dockerfile:2: HEALTHCHECK CMD needs a command"},
      {"FROM a\nHEALTHCHECK --retries 3 CMD x",
       "Dockerfile:2: HEALTHCHECK: --retries needs a value (--retries=...)"},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(error_of(text), want) << escaped(text);
}

TEST(Dockerfile, SizeCap) {
  std::string big = "FROM a\nRUN " + std::string(berth::build::kMaxDockerfileBytes, 'x');
  EXPECT_EQ(error_of(big), "Dockerfile: 1048587 bytes, more than the 1024 KiB allowed");
  // Exactly at the cap is fine: one long RUN line.
  big.resize(berth::build::kMaxDockerfileBytes);
  auto f = parse_dockerfile(big);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->instructions[1].raw.size(), berth::build::kMaxDockerfileBytes - 11);
}

// Hostile shapes near the cap: each is parsed in linear time (quadratic work
// here would take minutes) and comes out exactly as docker reads it.
TEST(Dockerfile, HostileShapesNearTheCap) {
  std::string continued = "FROM a\nRUN a \\\n";
  int lines = 0;
  while (continued.size() < berth::build::kMaxDockerfileBytes - 100) {
    continued += "b \\\n";
    ++lines;
  }
  continued += "c\n";
  auto f = parse_dockerfile(continued);
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_EQ(f->instructions.size(), 2u);
  EXPECT_EQ(f->instructions[1].end_line, lines + 3);
  EXPECT_EQ(f->instructions[1].raw.size(), 2 + 2 * static_cast<size_t>(lines) + 1);

  std::string only_escapes = "FROM a\nRUN x\\\n";
  while (only_escapes.size() < berth::build::kMaxDockerfileBytes - 10) only_escapes += "\\\n";
  f = parse_dockerfile(only_escapes);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->instructions[1].raw, "x");

  std::string heredocs = "FROM a\nRUN cat";
  for (int i = 0; i < 2000; ++i) heredocs += " <<E" + std::to_string(i);
  heredocs += "\n";
  for (int i = 0; i < 2000; ++i) heredocs += "body\nE" + std::to_string(i) + "\n";
  f = parse_dockerfile(heredocs);
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_EQ(f->instructions[1].heredocs.size(), 2000u);
  EXPECT_EQ(f->instructions[1].heredocs[1999].name, "E1999");
  EXPECT_EQ(f->instructions[1].heredocs[1999].content, "body\n");

  std::string unclosed = "FROM a\nRUN " + std::string(500000, '[');
  f = parse_dockerfile(unclosed);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->instructions[1].json);  // never closes: shell form
  std::string nested = "FROM a\nCMD " + std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(error_of(nested), "Dockerfile:2: a JSON array (exec form) must hold only strings");

  std::string unterminated = "FROM a\nRUN <<EOF\n";
  while (unterminated.size() < berth::build::kMaxDockerfileBytes - 10) unterminated += "EOF \n";
  EXPECT_EQ(error_of(unterminated),
            "Dockerfile:2: heredoc <<EOF is not terminated: no line 'EOF' before the end of the "
            "file");
}

}  // namespace
