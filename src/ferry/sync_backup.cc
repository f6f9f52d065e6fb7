#include "ferry/sync_backup.h"

#include <linux/openat2.h>

#include <fcntl.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace sys = base::sys;

Backups Backups::beside(std::string suffix) {
  Backups b;
  b.suffix_ = std::move(suffix);
  return b;
}

base::Result<Backups> Backups::into(base::UniqueFd dir, int target, std::string suffix) {
  Backups b;
  b.target_ = base::UniqueFd(TRY(sys::dup(target)));
  struct stat st = TRY(sys::fstat(dir.get(), "backup directory"));
  b.dir_dev_ = st.st_dev;
  b.dir_ino_ = st.st_ino;
  b.dir_ = std::move(dir);
  b.suffix_ = std::move(suffix);
  return b;
}

bool Backups::is_backup(const std::string& name, const struct stat& st) const {
  if (dir_.get() >= 0) return S_ISDIR(st.st_mode) && st.st_dev == dir_dev_ && st.st_ino == dir_ino_;
  return name.size() > suffix_.size() &&
         name.compare(name.size() - suffix_.size(), suffix_.size(), suffix_) == 0;
}

base::Status Backups::keep(int parent, const std::string& leaf, const std::string& rel) {
  if (dir_.get() < 0) {
    std::string aside = leaf + suffix_;
    return sys::renameat(parent, leaf, parent, aside, rel + suffix_);
  }
  // The same path inside the backup directory: its directories made as
  // needed with their modes in the target, each opened without following
  // a link.
  auto [rel_parent, name] = split_parent(rel);
  base::UniqueFd at;
  int where = dir_.get();
  size_t start = 0;
  while (start < rel_parent.size()) {
    size_t end = rel_parent.find('/', start);
    if (end == std::string::npos) end = rel_parent.size();
    std::string comp = rel_parent.substr(start, end - start);
    std::string shown = "backup of " + rel_parent.substr(0, end);
    auto original = sys::fstatat(target_.get(), rel_parent.substr(0, end), AT_SYMLINK_NOFOLLOW);
    mode_t mode = original && S_ISDIR(original->st_mode) ? original->st_mode & 07777 : 0755;
    auto made = sys::mkdirat(where, comp, mode | S_IRWXU, shown);
    if (!made && made.error().code() != EEXIST) return base::fail(std::move(made).error());
    at = TRY(sys::openat2(where, comp, O_PATH | O_DIRECTORY, 0,
                          RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, shown));
    where = at.get();
    start = end + 1;
  }
  auto moved = sys::renameat(parent, leaf, where, name + suffix_, rel);
  if (!moved && moved.error().code() == EXDEV)
    return base::fail_msg(
        fmt::format("{}: not backed up (nor replaced): the backup directory is on another "
                    "filesystem",
                    rel));
  return moved;
}

base::Result<base::UniqueFd> open_backup_dir(int base, const std::string& path) {
  auto fd = sys::openat(base, path, O_PATH | O_DIRECTORY, 0, "--backup-dir " + path);
  if (fd || fd.error().code() != ENOENT) return fd;
  auto made = sys::mkdirat(base, path, 0755, "--backup-dir " + path);
  if (!made && made.error().code() != EEXIST) return base::fail(std::move(made).error());
  return sys::openat(base, path, O_PATH | O_DIRECTORY, 0, "--backup-dir " + path);
}

}  // namespace ferry
