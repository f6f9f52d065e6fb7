// A Dockerfile's text parsed into instructions, following the Dockerfile
// reference and BuildKit's parser; nothing is expanded or run here.
//
// The file, line by line:
//   - Parser directives (`# escape=\` or `# escape=``, `# syntax=...`,
//     `# check=...`; keys in any case, spaces allowed around `=`) are read
//     only at the very top: the first line that is not one (an instruction,
//     a comment, a blank line, an unknown directive) ends them. A directive
//     given twice, or an escape other than \ or `, is an error. `syntax` and
//     `check` are noted and otherwise ignored.
//   - A line whose first non-blank character is `#` is a comment; a `#`
//     anywhere else is part of the arguments. Leading whitespace is dropped.
//   - The escape character at the end of a line (trailing blanks allowed,
//     not itself escaped) continues the instruction on the next line; comment
//     lines and blank lines inside a continuation are skipped (blank ones
//     with a warning, as docker gives). A continuation that reaches the end
//     of the file ends the instruction there; one that joins up nothing
//     (a lone escape character) is an error.
//   - RUN, COPY and ADD in shell form (and ONBUILD of them) may open
//     here-documents (heredoc.h); their bodies are the following lines up to
//     a line that is exactly the delimiter (after leading tabs for <<-), read
//     raw: no comments, no continuations. An unterminated one is an error.
//   - An unknown instruction is an error; only ARG may come before the first
//     FROM; stage names must be unique.
// The whole text is refused when larger than kMaxDockerfileBytes or holding
// a NUL byte (no argv or environment can carry one). A UTF-8 byte-order mark
// at the start is skipped; lines end at \n, and \r before it is dropped.
//
// Every error is one line: "Dockerfile:LINE: what was wrong" (LINE where the
// instruction starts), or "Dockerfile: what" for the whole file.
// Thread-safety: pure functions; plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "berth/build/instruction.h"

namespace berth::build {

inline constexpr size_t kMaxDockerfileBytes = 1 << 20;

struct Dockerfile {
  char escape = '\\';  // from `# escape=`
  std::string syntax;  // `# syntax=` as written, or ""
  std::vector<Instruction> instructions;
  std::vector<std::string> warnings;  // "Dockerfile:LINE: ..." lines
};

base::Result<Dockerfile> parse_dockerfile(std::string_view text);

}  // namespace berth::build
