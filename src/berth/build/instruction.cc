#include "berth/build/instruction.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "berth/build/text.h"

namespace berth::build {
namespace {

std::vector<std::string> whitespace_words(std::string_view s) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos == s.size()) return words;
    size_t end = pos;
    while (end < s.size() && !is_space(s[end])) ++end;
    words.emplace_back(s.substr(pos, end - pos));
    pos = end;
  }
}

constexpr std::string_view kKeywords[] = {
    "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};

enum class FlagKind { kString, kBool, kList };
struct FlagSpec {
  std::string_view keyword;
  std::string_view name;
  FlagKind kind;
};
// The flags of the Dockerfile reference, per instruction.
constexpr FlagSpec kFlagSpecs[] = {
    {"FROM", "platform", FlagKind::kString},
    {"RUN", "mount", FlagKind::kList},
    {"RUN", "network", FlagKind::kString},
    {"RUN", "security", FlagKind::kString},
    {"RUN", "device", FlagKind::kList},
    {"COPY", "from", FlagKind::kString},
    {"COPY", "chown", FlagKind::kString},
    {"COPY", "chmod", FlagKind::kString},
    {"COPY", "link", FlagKind::kBool},
    {"COPY", "parents", FlagKind::kBool},
    {"COPY", "exclude", FlagKind::kList},
    {"ADD", "chown", FlagKind::kString},
    {"ADD", "chmod", FlagKind::kString},
    {"ADD", "checksum", FlagKind::kString},
    {"ADD", "link", FlagKind::kBool},
    {"ADD", "keep-git-dir", FlagKind::kBool},
    {"ADD", "unpack", FlagKind::kBool},
    {"ADD", "exclude", FlagKind::kList},
    {"HEALTHCHECK", "interval", FlagKind::kString},
    {"HEALTHCHECK", "timeout", FlagKind::kString},
    {"HEALTHCHECK", "start-period", FlagKind::kString},
    {"HEALTHCHECK", "start-interval", FlagKind::kString},
    {"HEALTHCHECK", "retries", FlagKind::kString},
};

// Docker's flag words: leading words that start with "--", read with quotes
// and backslashes removed; a bare "--" ends them. Returns the words and
// leaves `rest` at the first argument.
std::vector<std::string> extract_flag_words(std::string_view text, std::string_view& rest) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos + 1 >= text.size() || text[pos] != '-' || text[pos + 1] != '-') {
      rest = text.substr(pos);
      return words;
    }
    std::string word;
    bool blank_ok = false;
    char quote = 0;
    for (; pos < text.size(); ++pos) {
      char c = text[pos];
      if (quote == 0 && is_space(c)) break;
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        blank_ok = true;
        continue;
      }
      if (quote != 0 && c == quote) {
        quote = 0;
        continue;
      }
      if (c == '\\') {
        if (pos + 1 == text.size()) {
          quote = 0;
          continue;  // a backslash at the end is dropped
        }
        c = text[++pos];
      }
      word += c;
    }
    if (word == "--") {
      rest = text.substr(pos);
      return words;
    }
    if (blank_ok || !word.empty()) words.push_back(std::move(word));
  }
}

base::Status parse_flags(const std::string& keyword, const std::vector<std::string>& words,
                         std::vector<Flag>& flags) {
  for (const std::string& w : words) {
    std::string_view body = std::string_view(w).substr(2);
    Flag f;
    size_t eq = body.find('=');
    f.name = std::string(body.substr(0, eq));
    if (eq != std::string_view::npos) {
      f.value = std::string(body.substr(eq + 1));
      f.has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : kFlagSpecs)
      if (s.keyword == keyword && s.name == f.name) spec = &s;
    if (spec == nullptr)
      return base::fail_msg(fmt::format("{}: unknown flag --{}", keyword, f.name));
    bool repeated =
        std::any_of(flags.begin(), flags.end(), [&](const Flag& g) { return g.name == f.name; });
    if (repeated && spec->kind != FlagKind::kList)
      return base::fail_msg(fmt::format("{}: --{} is given twice", keyword, f.name));
    if (spec->kind == FlagKind::kBool) {
      std::string v = ascii_lower(f.value);
      if (f.has_value && v != "true" && v != "false")
        return base::fail_msg(
            fmt::format("{}: --{} takes true or false, not {}", keyword, f.name, shown(f.value)));
    } else if (!f.has_value) {
      return base::fail_msg(
          fmt::format("{}: --{} needs a value (--{}=...)", keyword, f.name, f.name));
    }
    flags.push_back(std::move(f));
  }
  return {};
}

// Collects a JSON array's strings; anything else in it is noted, not an error
// yet: a syntax error later in the text must still make it shell form.
class ArraySax : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::string> strings;
  bool only_strings = true;

  bool null() override { return other(); }
  bool boolean(bool) override { return other(); }
  bool number_integer(number_integer_t) override { return other(); }
  bool number_unsigned(number_unsigned_t) override { return other(); }
  bool number_float(number_float_t, const string_t&) override { return other(); }
  bool binary(binary_t&) override { return other(); }
  bool string(string_t& s) override {
    if (depth_ == 1) strings.push_back(std::move(s));
    return true;
  }
  bool start_object(std::size_t) override {
    other();
    ++depth_;
    return true;
  }
  bool key(string_t&) override { return true; }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ > 0) other();
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool other() {
    if (depth_ == 1) only_strings = false;
    return true;
  }
  int depth_ = 0;
};

// Where the JSON value starting at text[0] ends, by brackets and strings;
// npos when it never closes.
size_t json_array_end(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Docker's exec form: text that parses as a JSON array is one, and then it
// must hold only strings; text that does not parse is shell form. Like
// docker's decoder, anything after the array is ignored.
base::Result<bool> parse_exec_form(std::string_view text, std::vector<std::string>& out) {
  if (text.empty() || text[0] != '[') return false;
  size_t end = json_array_end(text);
  if (end == std::string_view::npos) return false;
  ArraySax sax;
  std::string_view json = text.substr(0, end);
  if (!nlohmann::json::sax_parse(json.data(), json.data() + json.size(), &sax)) return false;
  if (!sax.only_strings) return base::fail_msg("a JSON array (exec form) must hold only strings");
  out = std::move(sax.strings);
  return true;
}

base::Status parse_arguments(Instruction& ins, char escape);

base::Status parse_from(Instruction& ins) {
  std::vector<std::string> words = whitespace_words(ins.raw);
  if (!(words.size() == 1 || (words.size() == 3 && ascii_lower(words[1]) == "as")))
    return base::fail_msg("FROM takes an image, then optionally AS and a stage name");
  ins.args = {words[0]};
  if (words.size() == 3) {
    ins.stage = ascii_lower(words[2]);
    bool ok = ins.stage[0] >= 'a' && ins.stage[0] <= 'z';
    for (char c : ins.stage)
      ok = ok &&
           ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
    if (!ok)
      return base::fail_msg(fmt::format(
          "FROM: stage name {} must start with a letter and hold only letters, digits, - _ .",
          shown(words[2])));
  }
  return {};
}

base::Status parse_healthcheck(Instruction& ins, char escape) {
  std::string_view raw = ins.raw;
  size_t end = 0;
  while (end < raw.size() && !is_space(raw[end])) ++end;
  std::string type = ascii_upper(raw.substr(0, end));
  std::string_view rest = trim(raw.substr(end));
  if (type == "NONE") {
    if (!rest.empty()) return base::fail_msg("HEALTHCHECK NONE takes no arguments");
    ins.args = {type};
    return {};
  }
  if (type != "CMD")
    return base::fail_msg(
        type.empty() ? "HEALTHCHECK needs CMD and a command, or NONE"
                     : fmt::format("HEALTHCHECK {} is not CMD or NONE", shown(raw.substr(0, end))));
  if (rest.empty()) return base::fail_msg("HEALTHCHECK CMD needs a command");
  Instruction cmd;
  cmd.keyword = "CMD";
  cmd.raw = std::string(rest);
  TRY_STATUS(parse_arguments(cmd, escape));
  ins.args = {type};
  ins.inner.push_back(std::move(cmd));
  return {};
}

base::Status parse_onbuild(Instruction& ins, char escape) {
  if (ins.raw.empty()) return base::fail_msg("ONBUILD needs an instruction to trigger");
  Instruction trigger = TRY(parse_instruction(ins.raw, escape));
  if (trigger.keyword == "ONBUILD" || trigger.keyword == "FROM" || trigger.keyword == "MAINTAINER")
    return base::fail_msg(fmt::format("ONBUILD {} is not allowed", trigger.keyword));
  ins.inner.push_back(std::move(trigger));
  return {};
}

base::Status parse_arguments(Instruction& ins, char escape) {
  const std::string& k = ins.keyword;
  auto need = [&](bool ok, std::string_view what) -> base::Status {
    if (ok) return {};
    return base::fail_msg(fmt::format("{} requires {}", k, what));
  };
  if (k == "FROM") return parse_from(ins);
  if (k == "RUN" || k == "CMD" || k == "ENTRYPOINT" || k == "SHELL") {
    ins.json = TRY(parse_exec_form(ins.raw, ins.args));
    if (k == "SHELL" && !ins.json)
      return base::fail_msg("SHELL requires its arguments in JSON form: SHELL [\"sh\", \"-c\"]");
    if (k == "SHELL") return need(!ins.args.empty(), "at least one argument");
    if (k == "RUN") return need(!ins.raw.empty(), "a command");
    return {};
  }
  if (k == "COPY" || k == "ADD" || k == "VOLUME") {
    ins.json = TRY(parse_exec_form(ins.raw, ins.args));
    if (!ins.json) ins.args = whitespace_words(ins.raw);
    if (k == "VOLUME") {
      TRY_STATUS(need(!ins.args.empty(), "at least one argument"));
      bool blank = std::any_of(ins.args.begin(), ins.args.end(),
                               [](const std::string& a) { return trim(a).empty(); });
      return need(!blank, "paths that are not empty");
    }
    return need(ins.args.size() >= 2, "at least two arguments: sources and a destination");
  }
  if (k == "EXPOSE") {
    ins.args = whitespace_words(ins.raw);
    return need(!ins.args.empty(), "at least one argument");
  }
  if (k == "ENV" || k == "LABEL") {
    ins.pairs = TRY(split_assignments(ins.raw, escape, k));
    return {};
  }
  if (k == "ARG") {
    ins.pairs = TRY(split_arg_declarations(ins.raw, escape));
    return {};
  }
  if (k == "HEALTHCHECK") return parse_healthcheck(ins, escape);
  if (k == "ONBUILD") return parse_onbuild(ins, escape);
  // USER, WORKDIR, STOPSIGNAL, MAINTAINER: the whole text is the argument.
  TRY_STATUS(need(!ins.raw.empty(), "exactly one argument"));
  ins.args = {ins.raw};
  return {};
}

}  // namespace

const Flag* Instruction::flag(std::string_view name) const {
  const Flag* found = nullptr;
  for (const Flag& f : flags)
    if (f.name == name) found = &f;
  return found;
}

std::vector<std::string> Instruction::flag_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const Flag& f : flags)
    if (f.name == name) values.push_back(f.value);
  return values;
}

bool Instruction::flag_enabled(std::string_view name) const {
  const Flag* f = flag(name);
  return f != nullptr && (!f->has_value || ascii_lower(f->value) == "true");
}

base::Result<Instruction> parse_instruction(std::string_view line, char escape) {
  std::string_view text = trim(line);
  size_t end = 0;
  while (end < text.size() && !is_space(text[end])) ++end;
  Instruction ins;
  ins.keyword = ascii_upper(text.substr(0, end));
  if (std::find(std::begin(kKeywords), std::end(kKeywords), ins.keyword) == std::end(kKeywords))
    return base::fail_msg(fmt::format("unknown instruction {}", shown(text.substr(0, end))));
  std::string_view rest;
  std::vector<std::string> flag_words = extract_flag_words(text.substr(end), rest);
  ins.raw = std::string(trim(rest));
  TRY_STATUS(parse_flags(ins.keyword, flag_words, ins.flags));
  TRY_STATUS(parse_arguments(ins, escape));
  return ins;
}

bool takes_heredocs(const Instruction& ins) {
  if (ins.keyword == "ONBUILD") return !ins.inner.empty() && takes_heredocs(ins.inner[0]);
  return (ins.keyword == "RUN" || ins.keyword == "COPY" || ins.keyword == "ADD") && !ins.json;
}

}  // namespace berth::build
