#include "berth/build/dockerfile.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "berth/build/heredoc.h"
#include "berth/build/text.h"

namespace berth::build {
namespace {

// The text's lines, each with its "\n" when it has one; numbered from 1.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    end = end == std::string_view::npos ? text_.size() : end + 1;
    line = text_.substr(pos_, end - pos_);
    pos_ = end;
    ++number_;
    return true;
  }
  int number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  std::string_view t = trim_left(line);
  return !t.empty() && t[0] == '#';
}

tl::unexpected<base::Error> fail_at(int line, std::string_view what) {
  return base::fail_msg(fmt::format("Dockerfile:{}: {}", line, what));
}

// The parser directives at the top of the file.
class Directives {
 public:
  char escape = '\\';
  std::string syntax;

  // Looks at a line (leading blanks gone) while directives may still come.
  base::Status look_at(std::string_view line, int number) {
    if (done_) return {};
    std::string key;
    std::string_view value;
    if (!parse(line, key, value) || (key != "escape" && key != "syntax" && key != "check")) {
      done_ = true;
      return {};
    }
    if (!seen_.insert(key).second)
      return fail_at(number, fmt::format("the {} directive is given twice", key));
    if (key == "escape") {
      if (value != "\\" && value != "`")
        return fail_at(number, fmt::format("escape must be \\ or `, not {}", shown(value)));
      escape = value[0];
    } else if (key == "syntax") {
      syntax = std::string(value);
    }
    return {};
  }

 private:
  // "#" blanks KEY blanks "=" blanks VALUE blanks, KEY a letter then letters or digits.
  static bool parse(std::string_view line, std::string& key, std::string_view& value) {
    if (line.empty() || line[0] != '#') return false;
    std::string_view s = trim_left(line.substr(1));
    size_t n = 0;
    while (n < s.size() && std::isalnum(static_cast<unsigned char>(s[n]))) ++n;
    if (n == 0 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
    key = ascii_lower(s.substr(0, n));
    s = trim_left(s.substr(n));
    if (s.empty() || s[0] != '=') return false;
    value = trim(s.substr(1));
    return !value.empty();
  }

  bool done_ = false;
  std::set<std::string> seen_;
};

// Removes a line-continuation escape: the escape character last (blanks may
// follow) and not preceded by another one. Returns whether it was there.
bool strip_continuation(std::string_view& line, char escape) {
  std::string_view s = line;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.back() != escape) return false;
  if (s.size() >= 2 && s[s.size() - 2] == escape) return false;
  s.remove_suffix(1);
  line = s;
  return true;
}

// Reads the bodies of `docs` from the lines after the instruction.
base::Status read_heredocs(Lines& lines, std::vector<Heredoc>& docs, int start) {
  for (Heredoc& doc : docs) {
    bool terminated = false;
    std::string_view raw;
    while (lines.next(raw)) {
      std::string_view candidate = trim_newline(raw);
      if (doc.strip_tabs)
        while (!candidate.empty() && candidate[0] == '\t') candidate.remove_prefix(1);
      if (candidate == doc.name) {
        terminated = true;
        break;
      }
      if (doc.strip_tabs)
        while (!raw.empty() && raw[0] == '\t') raw.remove_prefix(1);
      doc.content += raw;
    }
    if (!terminated)
      return fail_at(start, fmt::format("heredoc <<{} is not terminated: no line {} before the "
                                        "end of the file",
                                        doc.name, shown(doc.name)));
  }
  return {};
}

// The checks across instructions: only ARG before the first FROM, one name per stage.
base::Status check_order(const Dockerfile& file) {
  bool seen_from = false;
  std::set<std::string> stages;
  for (const Instruction& ins : file.instructions) {
    if (ins.keyword == "FROM") {
      seen_from = true;
      if (!ins.stage.empty() && !stages.insert(ins.stage).second)
        return fail_at(ins.line, fmt::format("stage name {} is used twice", shown(ins.stage)));
    } else if (!seen_from && ins.keyword != "ARG") {
      return fail_at(ins.line, fmt::format("{} before the first FROM (only ARG may come before it)",
                                           ins.keyword));
    }
  }
  if (!seen_from) return base::fail_msg("Dockerfile: no FROM instruction");
  return {};
}

}  // namespace

base::Result<Dockerfile> parse_dockerfile(std::string_view text) {
  if (text.size() > kMaxDockerfileBytes)
    return base::fail_msg(fmt::format("Dockerfile: {} bytes, more than the {} KiB allowed",
                                      text.size(), kMaxDockerfileBytes / 1024));
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return fail_at(static_cast<int>(std::count(text.begin(), text.begin() + nul, '\n')) + 1,
                   "NUL byte in the file");
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  Dockerfile file;
  Directives directives;
  Lines lines(text);
  std::string_view raw;
  while (lines.next(raw)) {
    std::string_view first = trim_left(trim_newline(raw));
    TRY_STATUS(directives.look_at(first, lines.number()));
    if (!first.empty() && first[0] == '#') first = {};
    const int start = lines.number();
    const char escape = directives.escape;
    bool continues = strip_continuation(first, escape);
    if (!continues && first.empty()) continue;

    std::string line(first);
    bool blank_inside = false;
    while (continues && lines.next(raw)) {
      std::string_view part = trim_newline(raw);
      if (is_comment(part)) continue;
      if (trim_left(part).empty()) {
        blank_inside = true;
        continue;
      }
      continues = strip_continuation(part, escape);
      line += part;
    }
    if (blank_inside)
      file.warnings.push_back(fmt::format(
          "Dockerfile:{}: empty continuation line (docker plans to make these errors)", start));
    if (trim(line).empty())
      return fail_at(start, fmt::format("a line continuation ({}) with no instruction", escape));

    auto parsed = parse_instruction(line, escape);
    if (!parsed) return fail_at(start, parsed.error().message());
    Instruction ins = std::move(*parsed);
    if (takes_heredocs(ins)) {
      Instruction& target = ins.keyword == "ONBUILD" ? ins.inner[0] : ins;
      target.heredocs = heredoc_openers(line);
      TRY_STATUS(read_heredocs(lines, target.heredocs, start));
    }
    ins.line = start;
    ins.end_line = lines.number();
    for (Instruction& inner : ins.inner) {
      inner.line = ins.line;
      inner.end_line = ins.end_line;
    }
    file.instructions.push_back(std::move(ins));
  }
  if (file.instructions.empty()) return base::fail_msg("Dockerfile: no instructions");
  TRY_STATUS(check_order(file));
  file.escape = directives.escape;
  file.syntax = std::move(directives.syntax);
  return file;
}

}  // namespace berth::build
