// Directory and file-metadata calls that report errors as values: the
// non-throwing forms of std::filesystem's, so no caller can abort on an
// unusable --root (EACCES, ENOTDIR, a full disk).
// Thread-safety: as the underlying system calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace base {

// mkdir -p: `path` and its missing parents; an existing directory is fine.
Status make_dirs(const std::string& path);
// Whether `path` exists (a dangling symlink does not); errors read as false.
bool path_exists(const std::string& path);
// rm -rf: `path` and all below it (symlinks are removed, never followed);
// a missing path is fine, and so is an entry something else removes
// meanwhile. One directory fd is open at a time and each directory is read
// once, so no depth (beyond the fd limit or PATH_MAX) or width of tree stops
// it; it never walks onto another mount (a mount point in the tree is an
// error, EBUSY) and fails if the tree moves under it.
Status remove_tree(const std::string& path);
// The names in the directory `dir_fd` (an O_PATH fd will do), without "."
// and "..", sorted bytewise; `what` names the directory in errors.
Result<std::vector<std::string>> list_dir(int dir_fd, std::string_view what);
// A directory made here, removed with everything below it when the guard
// goes (a build step's scratch space, say).
class OwnedDir {
 public:
  // Makes `parent`/`prefix`<16 random hex digits>, mode 0700; `parent`
  // must exist.
  static Result<OwnedDir> make(const std::string& parent, const std::string& prefix);
  OwnedDir(OwnedDir&& other) noexcept;
  OwnedDir& operator=(OwnedDir&&) = delete;
  ~OwnedDir();
  const std::string& path() const { return path_; }

 private:
  explicit OwnedDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The bytes of the regular files at or below `path` (du --apparent-size;
// a file of several hard links counted once, symlinks never followed); a
// missing path is 0. Entries that go while it counts are skipped; a tree
// that moves under it gives what was counted so far; other mounts below are
// not counted (du -x). One directory fd is open at a time and each
// directory is read once, so no depth or width of tree stops it.
Result<uint64_t> tree_size(const std::string& path);
// `name` in `dir_fd` opened O_RDONLY only if it is a regular file or a
// directory (`directory` says which) when opened: held as an O_PATH fd
// (O_NOFOLLOW) and checked first, so a device node or FIFO put in its
// place, even between a check and this call, is never opened (no driver
// is called) and is an error instead.
Result<UniqueFd> open_checked(int dir_fd, const std::string& name, bool directory,
                              std::string_view what);
// The size of the regular file at `path`.
Result<uint64_t> file_size(const std::string& path);

}  // namespace base
