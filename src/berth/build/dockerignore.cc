#include "berth/build/dockerignore.h"

#include <fmt/format.h>

#include "berth/build/text.h"

namespace berth::build {
namespace {

constexpr size_t kMaxLine = 64 * 1024 - 1;

}  // namespace

base::Result<Dockerignore> Dockerignore::parse(std::string_view text) {
  if (text.size() > kMaxDockerignoreBytes)
    return base::fail_msg(fmt::format(".dockerignore: {} bytes, more than the {} KiB allowed",
                                      text.size(), kMaxDockerignoreBytes / 1024));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Dockerignore out;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine)
      return base::fail_msg(fmt::format(".dockerignore:{}: line longer than 64 KiB", number));
    if (!line.empty() && line[0] == '#') continue;
    std::string_view p = trim(line);
    if (p.empty()) continue;
    Rule rule;
    if (p[0] == '!') {
      rule.exception = true;
      p = trim(p.substr(1));
      if (p.empty())
        return base::fail_msg(
            fmt::format(".dockerignore:{}: '!' needs a pattern after it", number));
    }
    rule.text = clean_path(p);
    if (rule.text.size() > 1 && rule.text[0] == '/') rule.text.erase(0, 1);
    auto compiled = IgnorePattern::compile(rule.text);
    if (!compiled)
      return base::fail_msg(fmt::format(".dockerignore:{}: bad pattern {}: {}", number, shown(p),
                                        compiled.error().message()));
    rule.pattern = std::move(*compiled);
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

long Dockerignore::last_match(const std::u32string& path) const {
  for (size_t i = rules_.size(); i-- > 0;)
    if (rules_[i].pattern.matches_or_parent(path)) return static_cast<long>(i);
  return -1;
}

bool Dockerignore::excluded(std::string_view path) const {
  std::string p = clean_path(path);
  if (p[0] == '/') p.erase(0, 1);
  if (p.empty() || p == ".") return false;
  long k = last_match(IgnorePattern::decode(p));
  return k >= 0 && !rules_[k].exception;
}

bool Dockerignore::can_skip_dir(std::string_view dir) const {
  std::string p = clean_path(dir);
  if (p[0] == '/') p.erase(0, 1);
  if (p.empty() || p == ".") return false;
  std::u32string decoded = IgnorePattern::decode(p);
  long k = last_match(decoded);
  if (k < 0 || rules_[k].exception) return false;
  // Only a later exception can take back something beneath: an earlier one
  // is overruled by rule k, which matches every path beneath through `dir`.
  for (size_t j = static_cast<size_t>(k) + 1; j < rules_.size(); ++j)
    if (rules_[j].exception && rules_[j].pattern.could_match_beneath(decoded)) return false;
  return true;
}

std::vector<std::string> Dockerignore::patterns() const {
  std::vector<std::string> out;
  for (const Rule& r : rules_) out.push_back(r.exception ? "!" + r.text : r.text);
  return out;
}

}  // namespace berth::build
