// Writes the entries of an image layer beneath one directory (the layer's
// root) with a few system calls per entry: every parent is resolved with
// openat2 against the root (beneath it, no symlinks; or, with in_root(), as
// the container would), so no path in the layer, and no symlink it made,
// can lead outside it; the last parent's fd is reused
// (tar entries come directory by directory). Files get their mode, owner and
// times; directories get their times at finish(), after their children.
// Owners and modes are set through an fd of the entry made, so a name that
// a running container swaps for a symlink meanwhile is refused, never
// followed. Whiteouts become overlayfs ones (".wh.NAME": a 0:0 character device;
// ".wh..wh..opq": the trusted.overlay.opaque xattr on the directory).
// Paths are relative, already checked to hold no ".." (layer_store).
// Thread-safety: one writer per layer, on one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

struct EntryMeta {
  mode_t mode = 0644;  // permission bits (and setuid/setgid/sticky)
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t mtime_sec = 0;
  long mtime_nsec = 0;
};

class LayerWriter {
 public:
  static base::Result<LayerWriter> open(const std::string& root);
  // Writes beneath the directory `root` (an fd of it, O_PATH is enough);
  // `shown` names it in messages.
  static LayerWriter at(base::UniqueFd root, std::string shown) {
    return LayerWriter(std::move(root), std::move(shown));
  }
  // Writes into a container's root (`berth build`'s ADD): parents resolve as
  // the container would see them (RESOLVE_IN_ROOT: its symlinks followed,
  // never out of the root), so an archive's lib/x lands in usr/lib when
  // /lib is a link to it, as docker's ADD does. What holds an entry's own
  // name is still replaced, never written through.
  static LayerWriter in_root(base::UniqueFd root, std::string shown);

  base::Status directory(const std::string& rel, const EntryMeta& m);
  // A regular file to be filled through the returned fd, then finish_file().
  base::Result<base::UniqueFd> file(const std::string& rel, const EntryMeta& m);
  // Extended attributes (`xattrs`, name and value) go on after the owner and
  // mode, since chown clears a file's capabilities (security.capability).
  using Xattrs = std::vector<std::pair<std::string, std::string>>;
  base::Status finish_file(base::UniqueFd fd, const EntryMeta& m, uint64_t size,
                           const Xattrs& xattrs = {});
  base::Status symlink(const std::string& rel, const std::string& target, const EntryMeta& m);
  base::Status hardlink(const std::string& rel, const std::string& target_rel);
  // Character or block devices and fifos (`type` is S_IFCHR, S_IFBLK or S_IFIFO).
  base::Status special(const std::string& rel, mode_t type, dev_t rdev, const EntryMeta& m);
  base::Status whiteout(const std::string& rel);
  // Sets the directories' times, now that nothing more is written into them.
  base::Status finish();

 private:
  explicit LayerWriter(base::UniqueFd root, std::string path)
      : root_(std::move(root)), path_(std::move(path)) {}
  // The directory holding `rel` (created if missing); sets `name` to its last component.
  base::Result<int> parent_of(const std::string& rel, std::string& name);
  base::Result<base::UniqueFd> open_dir(const std::string& rel, bool create);
  // Removes what is at `name` in `dir` (a later entry replaces an earlier one).
  void clear(int dir, const std::string& name);

  base::UniqueFd root_;
  std::string path_;      // for messages
  uint64_t resolve_ = 0;  // openat2's RESOLVE_* for parents; 0: beneath, no symlinks
  std::string parent_rel_;
  base::UniqueFd parent_;
  struct DirTime {
    std::string rel;
    EntryMeta meta;
  };
  std::vector<DirTime> dir_times_;
};

}  // namespace berth
