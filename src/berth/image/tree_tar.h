// A directory tree written as tar entries through a libarchive writer,
// walked in bytewise name order with parents first (the same files always
// give the same bytes): owners, modes, mtimes, devices, FIFOs, symlinks
// (as links, never followed) and hard links (the first path of an inode is
// the file, later ones link to it); sockets are left out. Each entry is
// opened below the fd of its directory, and only as the regular file or
// directory it was seen to be (base::open_checked), so a tree that a
// running container changes meanwhile cannot lead the walk elsewhere nor
// have it open a device.
// As a layer (TreeTarOptions::layer; layer_packer.h), the tree is one of
// berth's own overlayfs upper directories: whiteouts become OCI ones, an
// opaque directory gets ".wh..wh..opq", a file's security.capability is
// kept, and overlayfs's bookkeeping attributes are removed on the way.
// write_tree_tar() writes a whole plain tar (`berth export`, `berth cp ...
// -`): whole-second times, names in UTF-8, and a pax header saying a name
// is bytes only where one is not UTF-8. A layer's names are bytes always.
// At most 256 directories deep: deeper is an error, never an exhausted stack.
// Thread-safety: one walk per writer, on one thread.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <map>
#include <string>
#include <utility>

#include "base/error.h"

struct archive;

namespace berth {

struct TreeTarOptions {
  bool layer = false;  // the overlayfs conversions above
  std::string prefix;  // put before every entry's name ("" or "name/")
};

class TreeTar {
 public:
  // `root` is the walked directory's path (for messages; a layer's
  // attributes are read by path); `sink` is the status of whatever
  // libarchive writes into, reported before libarchive's own error.
  TreeTar(archive* a, std::string root, TreeTarOptions options, const base::Status& sink)
      : a_(a), root_(std::move(root)), options_(std::move(options)), sink_(sink) {}

  // The entries below `dir_fd` (the directory `rel` of the tree).
  base::Status directory(int dir_fd, const std::string& rel);
  // One entry of its own: the top directory (`rel` "" names the prefix
  // itself) or a single regular file read from `fd`.
  base::Status top_directory(const struct stat& st);
  base::Status single_file(int fd, const struct stat& st);
  base::Status single_symlink(const std::string& target, const struct stat& st);
  size_t entries() const { return entries_; }
  // A layer's root carries no entry of its own: only overlayfs's notes go.
  base::Status strip_root() { return strip_overlay_attributes(root_); }

 private:
  std::string path_of(const std::string& rel) const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }
  base::Status file(int fd, const std::string& rel, const struct stat& st);
  base::Status header(const std::string& name, const std::string& rel, const struct stat& st,
                      unsigned type, uint64_t size, const std::string& symlink = {},
                      const std::string& hardlink = {});
  base::Status strip_overlay_attributes(const std::string& path);
  base::Status archive_error();

  archive* a_;
  std::string root_;
  TreeTarOptions options_;
  const base::Status& sink_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  size_t entries_ = 0;
};

// A plain tar (pax, names as bytes) of `path` written to `fd`: a directory
// as `top` and all below it (or, when `top` is "", only what it holds), a
// regular file as the one entry `top`. `path` is opened with O_NOFOLLOW;
// `shown` names it in errors.
base::Status write_tree_tar(int fd, int path_fd, const std::string& top, const std::string& shown);
// A tar of the one symlink `name` -> `target` (`st`: the link's lstat).
base::Status write_symlink_tar(int fd, const std::string& name, const std::string& target,
                               const struct stat& st, const std::string& shown);

}  // namespace berth
