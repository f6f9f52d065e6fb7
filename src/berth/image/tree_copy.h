// A directory tree copied through a LayerWriter (layer_writer.h), so the
// writer's confinement holds for every entry: what `src` holds (not `src`
// itself) lands below `prefix` in the writer's root. Modes, mtimes,
// symlinks (copied as links, never followed), FIFOs and owners are kept,
// and devices unless the rules say not; sockets are skipped; a file with
// several hard links is copied once per name. Each entry is opened only as
// the regular file or directory it was seen to be (base::open_checked), so
// neither a symlink nor a device node put in its place meanwhile is ever
// read through. A file is copied to exactly the size it had, or the copy
// fails ("changed while it was copied"). At most 256 directories deep.
// Thread-safety: one call per writer.
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

struct CopyRules {
  // Replaces every entry's owner; setuid and setgid bits are then dropped,
  // as a file that changed hands must not keep them.
  std::optional<CopyOwner> owner;
  bool devices = true;  // false: device nodes are left out (copies to the host)
};

// Exactly `size` bytes from `in` to `out` (sendfile), or "changed while it
// was copied" when `in` ends sooner.
base::Status copy_bytes(int out, int in, uint64_t size, const std::string& shown);

// `src` is an open directory (O_RDONLY); `shown` names it in errors.
base::Status copy_tree(int src, LayerWriter& out, const std::string& prefix,
                       const std::string& shown, const CopyRules& rules = {});

// One entry, open as `fd` (O_RDONLY; `st` its fstat), as `rel` in the
// writer's root: a directory with all below it, or a regular file.
base::Status copy_entry(int fd, const struct stat& st, LayerWriter& out, const std::string& rel,
                        const std::string& shown, const CopyRules& rules = {});

}  // namespace berth
