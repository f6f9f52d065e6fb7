#include "berth/build/ignore_pattern.h"

#include <cstdint>

namespace berth::build {
namespace {

// A byte that is not valid UTF-8 becomes a code point of its own, past
// Unicode's range, so it only ever matches the same byte.
constexpr char32_t kInvalidBase = 0x110000;

}  // namespace

std::u32string IgnorePattern::decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xE  ? 3
                 : (b >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len != 0 && i + len <= s.size();
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(kInvalidBase + b);
      ++i;
    } else {
      out.push_back(cp);
      i += len;
    }
  }
  return out;
}

bool IgnorePattern::CharClass::contains(char32_t c) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges) in = in || (lo <= c && c <= hi);
  return in != negated;
}

base::Result<IgnorePattern> IgnorePattern::compile(std::string_view text) {
  const std::u32string p = decode(text);
  const size_t n = p.size();
  IgnorePattern out;
  auto plain_from = [&](size_t i) {
    for (; i < n; ++i)
      if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == ']' || p[i] == '\\') return false;
    return true;
  };
  // One class member, as Go's filepath.Match reads it.
  auto member = [&](size_t& i, char32_t& c) -> base::Status {
    if (i >= n) return base::fail_msg("unclosed character class");
    if (p[i] == '-' || p[i] == ']')
      return base::fail_msg("'-' or ']' misplaced in a character class");
    if (p[i] == '\\' && ++i >= n) return base::fail_msg("unclosed character class");
    if (p[i] >= kInvalidBase) return base::fail_msg("invalid UTF-8 in a character class");
    c = p[i++];
    return {};
  };

  for (size_t i = 0; i < n;) {
    char32_t c = p[i];
    if (c == '*' && i + 1 < n && p[i + 1] == '*') {
      bool at_start = i == 0;
      i += 2;
      bool slash = i < n && p[i] == '/';
      if (slash) ++i;
      // BuildKit matches a leading "**" + plain text as a plain suffix.
      bool any_rest = i == n || (at_start && !slash && plain_from(i));
      if (any_rest) {
        out.tokens_.push_back({Kind::kAnyRest});
      } else {
        out.tokens_.push_back({Kind::kAnyDirs});
        out.tokens_.push_back({Kind::kAnyDirsBody});
      }
    } else if (c == '*') {
      out.tokens_.push_back({Kind::kStar});
      ++i;
    } else if (c == '?') {
      out.tokens_.push_back({Kind::kOne});
      ++i;
    } else if (c == '\\') {
      if (i + 1 == n) return base::fail_msg("a lone '\\' at the end");
      out.tokens_.push_back({Kind::kLiteral, p[i + 1]});
      i += 2;
    } else if (c == '[') {
      CharClass klass;
      ++i;
      if (i < n && p[i] == '^') {
        klass.negated = true;
        ++i;
      }
      while (true) {
        if (i >= n) return base::fail_msg("unclosed character class");
        if (p[i] == ']' && !klass.ranges.empty()) {
          ++i;
          break;
        }
        char32_t lo = 0;
        TRY_STATUS(member(i, lo));
        char32_t hi = lo;
        if (i < n && p[i] == '-') {
          ++i;
          TRY_STATUS(member(i, hi));
          if (hi < lo) return base::fail_msg("a character class range runs backwards");
        }
        klass.ranges.emplace_back(lo, hi);
      }
      out.tokens_.push_back({Kind::kClass, 0, out.classes_.size()});
      out.classes_.push_back(std::move(klass));
    } else {
      out.tokens_.push_back({Kind::kLiteral, c});
      ++i;
    }
  }
  return out;
}

// The set of pattern positions reachable after the characters seen so far.
class IgnorePattern::Run {
 public:
  explicit Run(const IgnorePattern& p) : p_(p), mark_(p.tokens_.size() + 1, 0) { add(current_, 0); }

  void step(char32_t c) {
    ++generation_;
    next_.clear();
    for (size_t s : current_) {
      if (s == p_.tokens_.size()) continue;
      const Token& t = p_.tokens_[s];
      switch (t.kind) {
        case Kind::kLiteral:
          if (c == t.ch) add(next_, s + 1);
          break;
        case Kind::kStar:
          if (c != '/') add(next_, s);
          break;
        case Kind::kOne:
          if (c != '/') add(next_, s + 1);
          break;
        case Kind::kClass:
          if (p_.classes_[t.klass].contains(c)) add(next_, s + 1);
          break;
        case Kind::kAnyDirs:  // entering the body with c
          add(next_, s + 1);
          if (c == '/') add(next_, s + 2);
          break;
        case Kind::kAnyDirsBody:  // stay; leave after a '/'
          add(next_, s);
          if (c == '/') add(next_, s + 1);
          break;
        case Kind::kAnyRest:
          add(next_, s);
          break;
      }
    }
    current_.swap(next_);
  }

  bool accepting() const { return mark_[p_.tokens_.size()] == generation_; }
  bool dead() const { return current_.empty(); }

 private:
  // Adds state s and the states it may skip to without a character.
  void add(std::vector<size_t>& list, size_t s) {
    while (mark_[s] != generation_) {
      mark_[s] = generation_;
      list.push_back(s);
      if (s == p_.tokens_.size()) return;
      Kind k = p_.tokens_[s].kind;  // these may match nothing
      if (k == Kind::kAnyDirs)
        s += 2;
      else if (k == Kind::kStar || k == Kind::kAnyRest)
        ++s;
      else
        return;
    }
  }

  const IgnorePattern& p_;
  std::vector<uint32_t> mark_;
  uint32_t generation_ = 1;
  std::vector<size_t> current_, next_;
};

bool IgnorePattern::matches_or_parent(const std::u32string& path) const {
  Run run(*this);
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && i > 0 && run.accepting()) return true;
    run.step(path[i]);
    if (run.dead()) return false;
  }
  return run.accepting();
}

bool IgnorePattern::could_match_beneath(const std::u32string& dir) const {
  Run run(*this);
  for (char32_t c : dir) {
    run.step(c);
    if (run.dead()) return false;
  }
  run.step('/');
  return !run.dead();
}

}  // namespace berth::build
