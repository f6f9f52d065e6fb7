// Finding the here-documents an instruction line opens, as BuildKit does:
// the line is split into shell words (quotes and backslashes kept), and each
// word of the form [digits]<<[-]WORD opens one, in order. WORD is unquoted to
// give the delimiter; any quoting in it (<<"EOF", <<'EOF', <<E"O"F) turns
// expansion of the body off. A word that is quoted as a whole ("<<EOF"), a
// here-string (<<<), or a line whose quotes never close opens none.
// The bodies are read by the file parser (dockerfile.h).
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "berth/build/instruction.h"

namespace berth::build {

// The heredocs `line` opens, with empty contents.
std::vector<Heredoc> heredoc_openers(std::string_view line);

}  // namespace berth::build
