// Checks on path names that come from a peer, before they touch a file
// system call. These are the first line of defence; the second is that every
// open beneath a root uses openat2(RESOLVE_BENEATH) (see beneath.h).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace ferry {

inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxNameBytes = 255;

// An entry path inside a transfer: relative, '/'-separated, no empty, "." or
// ".." components, no NUL, within length limits. Any other bytes (non-UTF-8
// included) are allowed, as in Linux file names.
base::Status check_entry_path(std::string_view path);

// A path a client asks the server for (GET source, PUT target), relative to
// the served directory. Leading and trailing '/' and "." components are
// dropped; ".." anywhere is refused. Returns "." for the served root.
base::Result<std::string> normalize_request_path(std::string_view path);

// Text from a peer made safe to print (base::printable).
std::string printable(std::string_view s, size_t max = 200);

// Where a source a client names is read from: the directory and the name in
// it, with empty and "." components dropped lexically. A path that names a
// directory itself ("", "/", ".", "a/..") gives that directory and name ".".
// Absolute paths and ".." are kept as they are: a confining server has
// refused them before this (normalize_request_path); one started over ssh
// resolves them as its user would.
struct SourcePlace {
  std::string parent;
  std::string name;
};
SourcePlace source_place(std::string_view path);
// The top-level name a source is announced under: source_place's name, or
// "served" for a directory named itself. Client and server both use it.
std::string announced_name(std::string_view path);

// `rel` taken from the directory `base` (both relative to the served
// directory, '/'-separated), with "." dropped and ".." taking away a
// component, as a path that stays inside the served directory ("" for the
// directory itself); an error when ".." would leave it, or `rel` is absolute.
base::Result<std::string> join_within(std::string_view base, std::string_view rel);

// Splits "a/b/c" into "a/b" and "c" ("" parent for a single component).
std::pair<std::string, std::string> split_parent(std::string_view path);

}  // namespace ferry
