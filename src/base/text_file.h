// Whole small files as text: /proc and cgroup files, state files.
// Thread-safety: as the underlying system calls.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace base {

// The whole file (files under /proc and /sys report size 0, so read to EOF).
Result<std::string> read_text(const std::string& path);
// Opens an existing file for writing and writes `text` in one write(2), as
// kernel interface files require. Errors read "write <path> = <text>: <errno>".
Status write_text(const std::string& path, std::string_view text);
// Creates `path` (mode 0600) atomically: writes a temporary beside it, then renames.
Status replace_file(const std::string& path, std::string_view text);

}  // namespace base
