#include "ferry/sync/filter_pattern.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace ferry::sync {

namespace {

constexpr size_t npos = std::string_view::npos;

// The POSIX class `name` ("alpha") as a set of bytes; false for an unknown name.
bool posix_class(std::string_view name, std::bitset<256>& set) {
  int (*test)(int) = nullptr;
  if (name == "alnum") test = [](int c) { return std::isalnum(c); };
  if (name == "alpha") test = [](int c) { return std::isalpha(c); };
  if (name == "blank") test = [](int c) { return c == ' ' || c == '\t' ? 1 : 0; };
  if (name == "cntrl") test = [](int c) { return std::iscntrl(c); };
  if (name == "digit") test = [](int c) { return std::isdigit(c); };
  if (name == "graph") test = [](int c) { return std::isgraph(c); };
  if (name == "lower") test = [](int c) { return std::islower(c); };
  if (name == "print") test = [](int c) { return std::isprint(c); };
  if (name == "punct") test = [](int c) { return std::ispunct(c); };
  if (name == "space") test = [](int c) { return std::isspace(c); };
  if (name == "upper") test = [](int c) { return std::isupper(c); };
  if (name == "xdigit") test = [](int c) { return std::isxdigit(c); };
  if (test == nullptr) return false;
  for (int c = 1; c < 128; ++c) {  // ASCII only: the answer must not depend on a locale
    if (test(c) != 0) set.set(static_cast<size_t>(c));
  }
  return true;
}

}  // namespace

base::Result<FilterPattern> FilterPattern::compile(std::string_view text,
                                                   std::string_view anchor_dir) {
  if (text.empty()) return base::fail_msg("empty pattern");
  if (text.find('\0') != npos) return base::fail_msg("pattern contains a NUL byte");
  FilterPattern p;
  p.text_ = std::string(text);
  std::string_view raw = text;
  if (raw.size() > 1 && raw.back() == '/') {
    p.dir_only_ = true;
    raw.remove_suffix(1);
  }
  p.slashes_ = static_cast<size_t>(std::count(raw.begin(), raw.end(), '/'));
  const size_t first_wild = raw.find_first_of("*?[");
  p.wild_ = first_wild != npos;
  if (p.wild_) {
    // As rsync decides it: a "**" at or after the first wildcard character.
    const size_t two = raw.find("**", first_wild);
    p.wild2_ = two != npos;
    p.wild2_prefix_ = two == 0;
    p.wild3_suffix_ = p.wild2_ && raw.size() >= 3 && raw.substr(raw.size() - 3) == "***";
  }
  p.anchored_ = raw.front() == '/';
  if (p.anchored_) {
    raw.remove_prefix(1);
    if (!anchor_dir.empty()) p.anchor_prefix_ = std::string(anchor_dir) + "/";
  }
  p.body_ = std::string(raw);
  if (p.wild_) p.parse_wild();
  return p;
}

void FilterPattern::parse_wild() {
  const std::string& s = body_;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '*') {
      size_t run = 0;
      while (i < s.size() && s[i] == '*') ++run, ++i;
      tokens_.push_back({run == 1 ? Kind::star : Kind::star_star, 0, 0});
      continue;
    }
    if (c == '?') {
      tokens_.push_back({Kind::one, 0, 0});
      ++i;
      continue;
    }
    if (c == '[') {
      const size_t next = parse_class(i);
      if (next == npos) {
        never_ = true;
        return;
      }
      tokens_.push_back({Kind::cls, 0, classes_.size() - 1});
      i = next;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) {  // a trailing backslash matches nothing
        never_ = true;
        return;
      }
      tokens_.push_back({Kind::literal, static_cast<unsigned char>(s[i + 1]), 0});
      i += 2;
      continue;
    }
    tokens_.push_back({Kind::literal, c, 0});
    ++i;
  }
}

size_t FilterPattern::parse_class(size_t open) {
  const std::string& s = body_;
  std::bitset<256> set;
  size_t i = open + 1;
  bool negate = false;
  if (i < s.size() && (s[i] == '!' || s[i] == '^')) {
    negate = true;
    ++i;
  }
  unsigned prev = 0;  // the previous member, the low end of a range; 0 for none
  bool first = true;
  while (true) {
    if (i >= s.size()) return npos;
    auto c = static_cast<unsigned char>(s[i]);
    if (c == ']' && !first) break;
    first = false;
    if (c == '\\') {
      if (++i >= s.size()) return npos;
      c = static_cast<unsigned char>(s[i]);
      set.set(c);
      prev = c;
      ++i;
      continue;
    }
    if (c == '-' && prev != 0 && i + 1 < s.size() && s[i + 1] != ']') {
      i += 1;
      auto hi = static_cast<unsigned char>(s[i]);
      if (hi == '\\') {
        if (++i >= s.size()) return npos;
        hi = static_cast<unsigned char>(s[i]);
      }
      for (unsigned ch = prev; ch <= hi; ++ch) set.set(ch);
      prev = 0;
      ++i;
      continue;
    }
    if (c == '[' && i + 1 < s.size() && s[i + 1] == ':') {
      const size_t close = s.find(']', i + 2);
      if (close == npos) return npos;
      if (close < i + 3 || s[close - 1] != ':') {  // no ":]": a plain '['
        set.set('[');
        prev = '[';
        ++i;
        continue;
      }
      if (!posix_class(std::string_view(s).substr(i + 2, close - 1 - (i + 2)), set)) return npos;
      prev = 0;
      i = close + 1;
      continue;
    }
    set.set(c);
    prev = c;
    ++i;
  }
  if (negate) set.flip();
  set.reset('/');
  set.reset(0);
  classes_.push_back(set);
  return i + 1;
}

bool FilterPattern::match_wild(std::string_view text, bool restart_after_slash) const {
  // state[k]: the tokens before k have matched the text read so far.
  const size_t m = tokens_.size();
  // Two state sets; on the stack for the usual short pattern.
  std::array<unsigned char, 128> small{};
  std::vector<unsigned char> big;
  unsigned char* cur = small.data();
  if (2 * (m + 1) > small.size()) {
    big.assign(2 * (m + 1), 0);
    cur = big.data();
  }
  unsigned char* nxt = cur + m + 1;
  auto close = [&](unsigned char* st) {
    for (size_t k = 0; k < m; ++k) {
      if (st[k] != 0 && (tokens_[k].kind == Kind::star || tokens_[k].kind == Kind::star_star)) {
        st[k + 1] = 1;
      }
    }
  };
  cur[0] = 1;
  close(cur);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    std::fill(nxt, nxt + m + 1, 0);
    bool any = false;
    for (size_t k = 0; k < m; ++k) {
      if (cur[k] == 0) continue;
      const Token& t = tokens_[k];
      switch (t.kind) {
        case Kind::literal:
          if (c == t.ch) nxt[k + 1] = 1, any = true;
          break;
        case Kind::one:
          if (c != '/') nxt[k + 1] = 1, any = true;
          break;
        case Kind::cls:
          if (classes_[t.cls].test(c)) nxt[k + 1] = 1, any = true;
          break;
        case Kind::star:
          if (c != '/') nxt[k] = 1, any = true;
          break;
        case Kind::star_star:
          nxt[k] = 1, any = true;
          break;
      }
    }
    if (restart_after_slash && c == '/') nxt[0] = 1, any = true;
    if (!any && !restart_after_slash) return false;
    close(nxt);
    std::swap(cur, nxt);
  }
  return cur[m] != 0;
}

bool FilterPattern::matches(std::string_view rel_path, bool is_dir) const {
  if (rel_path.empty()) return false;
  if (dir_only_ && !is_dir) return false;
  std::string_view subject = rel_path;
  if (slashes_ == 0 && !wild2_) {
    const size_t slash = subject.rfind('/');
    if (slash != npos) subject.remove_prefix(slash + 1);
  }
  if (!anchor_prefix_.empty()) {
    if (subject.substr(0, anchor_prefix_.size()) != anchor_prefix_) return false;
    subject.remove_prefix(anchor_prefix_.size());
  }
  if (!wild_) {
    if (anchored_) return subject == body_;
    if (subject.size() < body_.size()) return false;
    const size_t at = subject.size() - body_.size();
    return subject.substr(at) == body_ && (at == 0 || subject[at - 1] == '/');
  }
  if (never_) return false;
  std::string text;
  text.reserve(subject.size() + 2);
  if (wild2_prefix_) text += '/';  // lets "**/x" match a top-level x
  text += subject;
  if (is_dir && wild3_suffix_) text += '/';  // lets "d/***" match d itself
  std::string_view view = text;
  if (!anchored_ && slashes_ > 0 && !wild2_) {
    // Only the last slashes_+1 components can match: the text after the
    // (slashes_+1)-th slash from the end, or all of it when it has just slashes_.
    size_t need = slashes_ + 1;
    size_t start = view.size();
    while (need > 0 && start > 0) {
      const size_t slash = view.rfind('/', start - 1);
      if (slash == npos) break;
      start = slash;
      --need;
    }
    if (need > 1) return false;
    if (need == 0) view.remove_prefix(start + 1);
    return match_wild(view, false);
  }
  const bool restart = !anchored_ && wild2_ && !wild2_prefix_;
  return match_wild(view, restart);
}

}  // namespace ferry::sync
