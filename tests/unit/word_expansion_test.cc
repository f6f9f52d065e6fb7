// Docker's word splitting and variable substitution (berth/build/word_expansion.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "berth/build/word_expansion.h"

namespace {

using berth::build::expand_heredoc;
using berth::build::expand_word;
using berth::build::expand_words;
using berth::build::KeyValue;
using berth::build::split_arg_declarations;
using berth::build::split_assignments;
using berth::build::split_words;
using berth::build::Variables;

const Variables kVars = {{"A", "a"}, {"EMPTY", ""}, {"SP", "x  y"}, {"HOME", "/root"}};

std::string expanded(std::string_view word, char escape = '\\') {
  auto r = expand_word(word, kVars, escape);
  return r ? *r : "error: " + r.error().message();
}

TEST(WordExpansion, Substitutions) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$A", "a"},
      {"${A}", "a"},
      {"${A}_b", "a_b"},
      {"$A_b", ""},  // the name is A_b
      {"$A-b", "a-b"},
      {"$UNSET", ""},
      {"${HOME}/x", "/root/x"},
      {"${UNSET:-d}", "d"},
      {"${EMPTY:-d}", "d"},
      {"${A:-d}", "a"},
      {"${UNSET-d}", "d"},
      {"${EMPTY-d}", ""},
      {"${A-d}", "a"},
      {"${A:+alt}", "alt"},
      {"${EMPTY:+alt}", ""},
      {"${UNSET:+alt}", ""},
      {"${A+alt}", "alt"},
      {"${EMPTY+alt}", "alt"},
      {"${UNSET+alt}", ""},
      {"${A:?no}", "a"},
      {"${EMPTY?no}", ""},
      {"${UNSET:-${A}x}", "ax"},
      {"${UNSET:-\"q  w\"}", "q  w"},
      {"${UNSET:-'$A'}", "$A"},
      {"${UNSET:-a\\}b}", "a}b"},
      {"${A}${A}", "aa"},
      {"$1 $$ $? $@", "   "},  // positional and special parameters: unset here
      {"$", "$"},
      {"a$", "a$"},
      {"$ x", "$ x"},
      {"$/", "$/"},
      {"$'x'", "$x"},
  };
  for (const auto& [word, want] : cases) EXPECT_EQ(expanded(word), want) << word;
}

TEST(WordExpansion, QuotesAndEscapes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\\$A", "$A"},
      {"\\${A}", "${A}"},
      {"'$A'", "$A"},
      {"'a\\'", "a\\"},  // no escapes inside single quotes
      {"\"$A\"", "a"},
      {"\"\\$A\"", "$A"},
      {"\"x\\\"y\"", "x\"y"},
      {"\"a\\\\b\"", "a\\b"},
      {"\"a\\b\"", "a\\b"},  // before other characters the escape stays
      {"a\\ b", "a b"},
      {"\\a\\b", "ab"},
      {"abc\\", "abc"},  // an escape at the very end is dropped
      {"\"it's\"", "it's"},
      {"'say \"hi\"'", "say \"hi\""},
      {"pre\"mid\"'post'", "premidpost"},
      {"\"\"", ""},
  };
  for (const auto& [word, want] : cases) EXPECT_EQ(expanded(word), want) << word;
  // With `# escape=``, the backtick escapes and the backslash is plain.
  EXPECT_EQ(expanded("`$A", '`'), "$A");
  EXPECT_EQ(expanded("c:\\$A", '`'), "c:\\a");
  EXPECT_EQ(expanded("\"``x`\"\"", '`'), "`x\"");
}

TEST(WordExpansion, ErrorsNameTheWord) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"${A", "'${A': missing '}'"},
      {"${", "'${': missing '}'"},
      {"x${A:", "'x${A:': missing '}'"},
      {"${A:-x", "'${A:-x': missing '}'"},
      {"${A:-${B}", "'${A:-${B}': missing '}'"},
      {"${}", "'${}': bad substitution"},
      {"${:-x}", "'${:-x}': bad substitution"},
      {"${{A}}", "'${{A}}': bad substitution"},
      {"${UNSET?}", "'${UNSET?}': UNSET: is not allowed to be unset"},
      {"${UNSET:?}", "'${UNSET:?}': UNSET: is not allowed to be unset"},
      {"${EMPTY:?}", "'${EMPTY:?}': EMPTY: is not allowed to be empty"},
      {"${UNSET?set it with --build-arg}",
       "'${UNSET?set it with --build-arg}': UNSET: set it with "
       "--build-arg"},
      {"${A!}", "'${A!}': unsupported modifier '!' in ${A...}"},
      {"${A:x}", "'${A:x}': unsupported modifier ':x' in ${A...}"},
      {"${A#x}",
       "'${A#x}': ${A#...}: pattern substitution is in Docker's pre-release syntax only; berth "
       "does not support it"},
      {"${A%%x}",
       "'${A%%x}': ${A%...}: pattern substitution is in Docker's pre-release syntax only; berth "
       "does not support it"},
      {"${A/x/y}",
       "'${A/x/y}': ${A/...}: pattern substitution is in Docker's pre-release syntax only; berth "
       "does not support it"},
      {"'abc", "''abc': unterminated single quote"},
      {"\"abc", "'\"abc': unterminated double quote"},
      {"\"abc\\", "'\"abc\\': unterminated double quote"},
      {"${A:-\"x}", "'${A:-\"x}': unterminated double quote"},
      {"\x1b[31m${", "'\\x1b[31m${': missing '}'"},
  };
  for (const auto& [word, want] : cases) EXPECT_EQ(expanded(word), "error: " + want) << word;
}

TEST(WordExpansion, NestingIsCapped) {
  std::string ok = "x";
  for (int i = 0; i < 32; ++i) ok = "${U:-" + ok + "}";
  EXPECT_EQ(expanded(ok), "x");
  std::string deep = "${U:-" + ok + "}";
  EXPECT_EQ(expanded(deep).substr(0, 7), "error: ");
  EXPECT_NE(expanded(deep).find("substitutions nested more than 32 deep"), std::string::npos);
  // A megabyte of openers fails cleanly rather than exhausting the stack.
  std::string hostile;
  while (hostile.size() < (1u << 20)) hostile += "${U:-\"";
  EXPECT_NE(expanded(hostile).find("nested more than 32 deep"), std::string::npos);
}

// Here-document bodies of COPY/ADD: variables expand, quotes and escape
// characters stay as written, and still decide what expands.
TEST(WordExpansion, HeredocBodiesKeepQuotesAndEscapes) {
  auto body = [](std::string_view text) {
    auto r = expand_heredoc(text, kVars);
    return r ? *r : "error: " + r.error().message();
  };
  EXPECT_EQ(body("home=$HOME\n"), "home=/root\n");
  EXPECT_EQ(body("say \"$A\" and '$A'\n"), "say \"a\" and '$A'\n");
  EXPECT_EQ(body("cost \\$5 \\\\ end"), "cost \\$5 \\\\ end");
  EXPECT_EQ(body("in \"quo\\\"ted $A\""), "in \"quo\\\"ted a\"");
  EXPECT_EQ(body("it's"), "error: here-document: unterminated single quote");
}

TEST(WordExpansion, ExpandWordsSplitsAfterExpansion) {
  auto words = [](std::string_view text) {
    auto r = expand_words(text, kVars);
    return r ? *r : std::vector<std::string>{"error: " + r.error().message()};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(words("a b  c"), (V{"a", "b", "c"}));
  EXPECT_EQ(words("\"a b\" c"), (V{"a b", "c"}));
  EXPECT_EQ(words("$SP z"), (V{"x", "y", "z"}));
  EXPECT_EQ(words("\"$SP\" z"), (V{"x  y", "z"}));
  EXPECT_EQ(words("pre$SP"), (V{"prex", "y"}));
  EXPECT_EQ(words("a\\ b"), (V{"a b"}));
  EXPECT_EQ(words("'' x \"\""), (V{"x"}));
  EXPECT_EQ(words("   "), V{});
  EXPECT_EQ(words("${A"), (V{"error: '${A': missing '}'"}));
}

TEST(WordSplitting, KeepsQuotesAndEscapes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_words("a \"b c\"  d", '\\'), (V{"a", "\"b c\"", "d"}));
  EXPECT_EQ(split_words("a\\ b c", '\\'), (V{"a\\ b", "c"}));
  EXPECT_EQ(split_words("'x\\' y", '\\'), (V{"'x\\'", "y"}));
  EXPECT_EQ(split_words("\"a\\\"b c\" d", '\\'), (V{"\"a\\\"b c\"", "d"}));
  EXPECT_EQ(split_words("k=\"a b\"c e", '\\'), (V{"k=\"a b\"c", "e"}));
  EXPECT_EQ(split_words("a\\", '\\'), (V{"a"}));
  EXPECT_EQ(split_words("\\", '\\'), V{});
  EXPECT_EQ(split_words("\"\" ''", '\\'), (V{"\"\"", "''"}));
  EXPECT_EQ(split_words("\"open to the end", '\\'), (V{"\"open to the end"}));
  EXPECT_EQ(split_words("a` b c\\ d", '`'), (V{"a` b", "c\\", "d"}));
  EXPECT_EQ(split_words(" \t ", '\\'), V{});
}

TEST(WordSplitting, Assignments) {
  using KV = std::vector<KeyValue>;
  auto env = [](std::string_view text) { return split_assignments(text, '\\', "ENV"); };
  EXPECT_EQ(*env("A=1 B=\"x y\" C=a\\ b D="),
            (KV{{"A", "1"}, {"B", "\"x y\""}, {"C", "a\\ b"}, {"D", ""}}));
  EXPECT_EQ(*env("ONE TWO= THREE=world"), (KV{{"ONE", "TWO= THREE=world"}}));
  EXPECT_EQ(*env("MY_VAR\t my value "), (KV{{"MY_VAR", "my value "}}));
  EXPECT_EQ(*env("URL=http://x/?a=b"), (KV{{"URL", "http://x/?a=b"}}));
  EXPECT_EQ(env("").error().message(), "ENV requires at least one argument");
  EXPECT_EQ(env("A").error().message(), "ENV 'A' needs a value (ENV key=value)");
  EXPECT_EQ(env("A=1 B").error().message(), "ENV: 'B' is not of the form key=value");
  EXPECT_EQ(env("A=1 =2").error().message(), "ENV: '=2' has an empty key");

  EXPECT_EQ(*split_arg_declarations("a b=2 c= d=\"x y\"", '\\'),
            (KV{{"a", "", false}, {"b", "2"}, {"c", ""}, {"d", "\"x y\""}}));
  EXPECT_EQ(split_arg_declarations(" ", '\\').error().message(),
            "ARG requires at least one argument");
  EXPECT_EQ(split_arg_declarations("a =b", '\\').error().message(), "ARG: '=b' has an empty name");
}

}  // namespace
