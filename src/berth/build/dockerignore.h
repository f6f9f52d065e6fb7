// A .dockerignore file: which paths of a build context are left out, by
// docker's rules (the Dockerfile reference's ".dockerignore file" and moby's
// patternmatcher, which docker and BuildKit use).
//
// The file, line by line (\n, a \r before it dropped; a UTF-8 byte-order
// mark at the start skipped):
//   - a line starting with `#` in its first column is a comment;
//   - blanks around a pattern are trimmed; a blank line is skipped;
//   - `!` in front makes an exception (blanks after it are trimmed too);
//     a `!` alone is an error;
//   - the pattern is cleaned like Go's filepath.Clean ("./a//b/../c" is
//     "a/c"), and one leading `/` dropped, so "/a", "./a" and "a/" all mean
//     "a": patterns are relative to the context root, never anchored
//     elsewhere. Pattern syntax: ignore_pattern.h.
// A path is excluded when the last pattern that matches it, or one of its
// parent directories, is not an exception: `node_modules` excludes every
// file beneath it, and a later `!node_modules/keep` takes that one back.
//
// Walking a context: a directory that is excluded may still hold an
// exception (`docs` then `!docs/README.md`), so a walker must look inside it
// unless can_skip_dir() says no later exception could match anything beneath.
// (Docker always sends the Dockerfile and .dockerignore themselves, whatever
// the patterns say: that is the walker's business.)
//
// Errors name the line: ".dockerignore:3: bad pattern '[a': unclosed
// character class". The file is capped at kMaxDockerignoreBytes, and a line
// at 64 KiB as Go's line scanner caps it for docker.
// Thread-safety: immutable after parse(); const methods may run concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "berth/build/ignore_pattern.h"

namespace berth::build {

inline constexpr size_t kMaxDockerignoreBytes = 1 << 20;

class Dockerignore {
 public:
  static base::Result<Dockerignore> parse(std::string_view text);

  // `path` is relative to the context root and '/'-separated ("src/a.c");
  // it is cleaned first, and "." or "" (the root) is never excluded.
  bool excluded(std::string_view path) const;

  // Whether a walker may skip directory `dir` and everything beneath it:
  // it is excluded and no exception after the pattern that excluded it
  // could match a path beneath it.
  bool can_skip_dir(std::string_view dir) const;

  // The patterns as cleaned, "!" in front of exceptions, in file order.
  std::vector<std::string> patterns() const;

 private:
  struct Rule {
    std::string text;  // cleaned, without the "!"
    bool exception = false;
    IgnorePattern pattern;
  };
  // The index of the last rule matching `path` or a parent, or -1.
  long last_match(const std::u32string& path) const;

  std::vector<Rule> rules_;
};

}  // namespace berth::build
