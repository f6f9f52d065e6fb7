// One .dockerignore pattern, compiled, with the semantics of moby's
// patternmatcher (which docker and BuildKit use):
//   *        any run of characters but '/'
//   ?        one character but '/'
//   [...]    a class as Go's filepath.Match writes it: ranges a-z, '^' first
//            negates, '\' escapes; it may match '/'
//   \c       c literally
//   **       any number of directories: "a/**/b" matches a/b and a/x/y/b;
//            at the end ("a/**") anything below a/; a leading "**" followed
//            only by plain characters ("**.go") matches any path ending so
//   anything else matches itself
// Patterns must be valid for Go's filepath.Match: an unclosed or empty
// class, a backwards range, or a trailing '\' is an error.
//
// Matching walks the pattern as a small automaton, so a path costs time in
// proportion to its length times the pattern's, never more.
// Thread-safety: immutable after compile(); const methods may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace berth::build {

class IgnorePattern {
 public:
  // `pattern` is already cleaned (no "!" in front, no leading "/" or "./").
  // Errors say what is malformed, without the pattern or line.
  static base::Result<IgnorePattern> compile(std::string_view pattern);

  // `path` as code points; pass the same decoding to several patterns.
  static std::u32string decode(std::string_view path);

  // Whether the pattern matches the path or one of its parent directories
  // ("a" and "a/b" are the parents of "a/b/c").
  bool matches_or_parent(const std::u32string& path) const;

  // Whether some path strictly beneath directory `dir` could match.
  bool could_match_beneath(const std::u32string& dir) const;

 private:
  // kAnyDirs is "(.*/)?" in two states: its entry, which may be skipped,
  // and its body (always the next token), which is left only after a '/'.
  enum class Kind { kLiteral, kStar, kOne, kClass, kAnyDirs, kAnyDirsBody, kAnyRest };
  struct Token {
    Kind kind;
    char32_t ch = 0;   // kLiteral
    size_t klass = 0;  // kClass: index into classes_
  };
  struct CharClass {
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool contains(char32_t c) const;
  };
  class Run;

  std::vector<Token> tokens_;
  std::vector<CharClass> classes_;
};

}  // namespace berth::build
