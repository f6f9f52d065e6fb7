// A directory tree copied through a LayerWriter (layer_writer.h), so the
// writer's confinement holds for every entry: what `src` holds (not `src`
// itself) lands below `prefix` in the writer's root. Owners (or the
// `owner` given instead), modes, mtimes, symlinks (copied as links, never
// followed), devices and FIFOs are kept; sockets are skipped; a file with
// several hard links is copied once per name. Each entry is opened with
// O_NOFOLLOW below the fd it came from, so a symlink placed in `src`
// meanwhile is copied as a link, never read through.
// Thread-safety: one call per writer; `src` must not change meanwhile.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "base/error.h"
#include "berth/image/layer_writer.h"

namespace berth {

struct CopyOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// `src` is an open directory (O_RDONLY); `shown` names it in errors.
base::Status copy_tree(int src, LayerWriter& out, const std::string& prefix,
                       const std::string& shown, const std::optional<CopyOwner>& owner = {});

// One entry, open as `fd` (O_RDONLY; `st` its fstat), as `rel` in the
// writer's root: a directory with all below it, or a regular file.
base::Status copy_entry(int fd, const struct stat& st, LayerWriter& out, const std::string& rel,
                        const std::string& shown, const std::optional<CopyOwner>& owner = {});

}  // namespace berth
