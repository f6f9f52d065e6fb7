// Network namespaces kept as files, as `ip netns add` keeps them: the
// namespace bind-mounted over an empty file, so it lives until the file is
// unmounted, whatever runs in it. A container on a bridge network joins the
// one its engine made and wired (linux.namespaces[].path in its config).
// Thread-safety: safe; each call works on a thread of its own where it must.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

// A new namespace at `path` (its parent directories made), loopback up.
base::Status create_netns_file(const std::string& path);
// Unmounts and removes it; a missing one is not an error.
base::Status remove_netns_file(const std::string& path);
base::Result<base::UniqueFd> open_netns(const std::string& path);

}  // namespace berth
