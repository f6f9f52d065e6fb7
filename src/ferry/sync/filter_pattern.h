// FilterPattern: one rsync include/exclude pattern, compiled, and whether a
// path of the transfer matches it — rsync's "INCLUDE/EXCLUDE PATTERN RULES":
//   *        any run of characters but '/'
//   **       any run of characters, '/' too (three or more '*' are the same)
//   ?        one character but '/'
//   [...]    one character of a class, never '/': ranges a-z, [:alpha:] and
//            the other POSIX names, '!' or '^' first negates, ']' first is a
//            member, '\' escapes; an unterminated class (or an unknown
//            [:name:]) makes the pattern match nothing, as in rsync
//   \c       c literally (only when the pattern has a wildcard at all: with
//            none of "*?[" the pattern is a plain string, backslashes included)
// Where a pattern applies:
//   - a leading '/' anchors it at the transfer root (or, for a rule from a
//     per-directory merge file, at that file's directory: `anchor_dir`);
//   - a trailing '/' makes it match directories only;
//   - with a '/' left inside, or a "**", it is matched against the whole
//     relative path; an unanchored one matches at any component boundary
//     ("foo/bar" matches "x/foo/bar"); "**/x" also matches a top-level "x";
//   - otherwise it is matched against the last component only;
//   - "dir/***" matches the directory dir itself and everything inside it.
// Matching simulates the pattern as an automaton over the path, so one match
// costs at most (path length) x (pattern length) steps whatever the input —
// no backtracking blow-up with hostile patterns such as 4096 '*'s.
// Thread-safety: immutable after compile(); const methods may run concurrently.
#pragma once

#include <bitset>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace ferry::sync {

class FilterPattern {
 public:
  // `text` is the pattern as written in a rule. `anchor_dir` ("a/b", no
  // slashes at its ends) is the directory a per-directory merge file was read
  // from: a '/'-anchored pattern from it matches only below that directory.
  // Errors (one line): an empty pattern, a NUL byte.
  static base::Result<FilterPattern> compile(std::string_view text,
                                             std::string_view anchor_dir = {});

  // Whether `rel_path` (relative to the transfer root, '/'-separated, no
  // leading '/') matches; `is_dir` says it names a directory.
  bool matches(std::string_view rel_path, bool is_dir) const;

  // The pattern as it was written (for messages and the wire).
  const std::string& text() const { return text_; }
  bool dir_only() const { return dir_only_; }

 private:
  enum class Kind { literal, one, cls, star, star_star };
  struct Token {
    Kind kind = Kind::literal;
    unsigned char ch = 0;  // Kind::literal
    size_t cls = 0;        // Kind::cls: index into classes_
  };

  void parse_wild();
  // Parses the class whose '[' is at body_[open]; returns the index just
  // past its ']', or npos when it is unterminated or names an unknown class.
  size_t parse_class(size_t open);
  bool match_wild(std::string_view text, bool restart_after_slash) const;

  std::string text_;           // as written
  std::string body_;           // without the anchoring '/' and the trailing '/'
  std::string anchor_prefix_;  // "a/b/" for an anchored rule from a merge file in a/b
  bool anchored_ = false;
  bool dir_only_ = false;
  bool wild_ = false;          // has one of "*?["
  bool wild2_ = false;         // has "**"
  bool wild2_prefix_ = false;  // starts with "**"
  bool wild3_suffix_ = false;  // ends with "***"
  bool never_ = false;         // cannot match: unterminated class, trailing '\'
  size_t slashes_ = 0;         // '/' in the pattern, the anchoring one included
  std::vector<Token> tokens_;
  std::vector<std::bitset<256>> classes_;
};

}  // namespace ferry::sync
