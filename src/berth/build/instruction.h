// One Dockerfile instruction, as the parser hands it on, and the parsing of
// one logical line (continuations already joined) into it.
//
// What `args` holds depends on the keyword, as in docker's parser:
//   FROM                      {image}; `stage` holds the AS name, lower-cased
//   RUN CMD ENTRYPOINT SHELL  exec form (json): the array's strings; shell
//                             form: {} and the command is `raw` (SHELL must
//                             be exec form)
//   COPY ADD VOLUME           the array's strings, or the whitespace-split words
//   EXPOSE                    the whitespace-split words
//   ENV LABEL ARG             {}; `pairs` holds key/value (ARG: name[=default])
//   USER WORKDIR STOPSIGNAL MAINTAINER
//                             {raw}: the whole text is the one argument
//   HEALTHCHECK               {"NONE"}, or {"CMD"} with `inner` the command as
//                             a CMD instruction
//   ONBUILD                   {}; `inner` is the trigger instruction
// Nothing is expanded or unquoted here except JSON strings (word_expansion.h
// does that later). Flags are checked against the ones each instruction
// takes (an unknown flag, a missing value, a repeat of a single-valued flag
// are errors); quotes and backslashes in a flag word are removed, as docker
// does. `--flag value` (without `=`) is not a flag value: docker reads
// `value` as the first argument.
//
// Errors are one line without the "Dockerfile:N:" prefix, which the caller
// (dockerfile.h) adds. Thread-safety: pure functions; plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "berth/build/word_expansion.h"

namespace berth::build {

struct Flag {
  std::string name;   // without the leading "--": "from"
  std::string value;  // "" when written without "="
  bool has_value = false;
  bool operator==(const Flag&) const = default;
};

// A here-document: the lines after the instruction, up to its delimiter.
struct Heredoc {
  std::string name;         // the delimiter with quotes removed: "EOF"
  std::string content;      // every line with its newline; leading tabs gone for <<-
  bool expand = true;       // false when the delimiter was quoted (<<"EOF", <<'EOF')
  bool strip_tabs = false;  // written <<-
  unsigned fd = 0;          // 2<<EOF: the descriptor written before <<
  bool operator==(const Heredoc&) const = default;
};

struct Instruction {
  std::string keyword;             // upper case: "RUN"
  int line = 0;                    // 1-based line where it starts (set by the file parser)
  int end_line = 0;                // its last line, continuations and heredocs included
  std::vector<Flag> flags;         // in the order written
  std::vector<std::string> args;   // see the table above
  std::string raw;                 // the arguments after the flags, as written
  bool json = false;               // exec form: a JSON array of strings
  std::vector<KeyValue> pairs;     // ENV, LABEL, ARG
  std::vector<Heredoc> heredocs;   // RUN, COPY, ADD in shell form
  std::string stage;               // FROM ... AS stage
  std::vector<Instruction> inner;  // ONBUILD's trigger, HEALTHCHECK's CMD: at most one

  // The last flag so named, or nullptr.
  const Flag* flag(std::string_view name) const;
  // Every value given to a flag that may repeat (--mount, --exclude).
  std::vector<std::string> flag_values(std::string_view name) const;
  // A boolean flag: present without a value, or =true (any case).
  bool flag_enabled(std::string_view name) const;

  bool operator==(const Instruction&) const = default;
};

// Parses one logical line, "COPY --from=a /x /y". `escape` is the file's
// escape character. Line numbers and heredoc bodies are the caller's.
base::Result<Instruction> parse_instruction(std::string_view line, char escape);

// Whether the instruction may open heredocs: RUN, COPY or ADD in shell form,
// or ONBUILD with such a trigger.
bool takes_heredocs(const Instruction& ins);

}  // namespace berth::build
