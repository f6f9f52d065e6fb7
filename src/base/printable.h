// Text from outside (a peer, a file, a name on disk) made safe to print in a
// one-line message: its first `max` bytes, with control bytes (escape
// sequences, CR, LF, ...) shown as \xNN, so the text cannot drive a terminal
// or forge a line of output.
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace base {

std::string printable(std::string_view s, size_t max = 200);

}  // namespace base
