// Whole small files as text: /proc and cgroup files, state files.
// Thread-safety: as the underlying system calls.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace base {

// The whole file (files under /proc and /sys report size 0, so read to EOF).
Result<std::string> read_text(const std::string& path);
// At most `max_bytes` of a file of any kind (a pipe such as <(cmd) too):
// more is an error (EFBIG) naming `path`, so /dev/zero cannot exhaust memory.
Result<std::string> read_text_capped(const std::string& path, size_t max_bytes);
// A regular file inside a tree that is not ours (an image layer, a
// container's root): `path` is resolved with `root_fd` as "/" (symlinks and
// ".." cannot leave it; RESOLVE_IN_ROOT), FIFOs and devices are refused
// without blocking, and a file over `max_bytes` is refused. ENOENT (the code
// of the error) means there is no such file in the tree.
Result<std::string> read_regular_beneath(int root_fd, const std::string& path, size_t max_bytes,
                                         std::string_view what);
// Opens an existing file for writing and writes `text` in one write(2), as
// kernel interface files require. Errors read "write <path> = <text>: <errno>".
Status write_text(const std::string& path, std::string_view text);
// Creates `path` (mode 0600) atomically: writes a temporary beside it, then renames.
Status replace_file(const std::string& path, std::string_view text);

}  // namespace base
