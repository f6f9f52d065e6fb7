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
  struct stat there = TRY(sys::fstat(target, "target"));
  if (suffix.empty() && st.st_dev == there.st_dev && st.st_ino == there.st_ino)
    return base::fail_msg(
        "--backup-dir is the target itself: a backup would be the file it keeps (give a "
        "--suffix, or another directory)");
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
  // Never onto itself (a backup directory that is, through a link, where
  // the file lies): rename(2) would do nothing and say it did.
  struct stat from = TRY(sys::fstat(parent, rel));
  struct stat to = TRY(sys::fstat(where, rel));
  if (from.st_dev == to.st_dev && from.st_ino == to.st_ino && name + suffix_ == leaf)
    return base::fail_msg(
        fmt::format("{}: not backed up (nor replaced): its backup would be the file itself", rel));
  auto moved = sys::renameat(parent, leaf, where, name + suffix_, rel);
  if (!moved && moved.error().code() == EXDEV)
    return base::fail_msg(
        fmt::format("{}: not backed up (nor replaced): the backup directory is on another "
                    "filesystem",
                    rel));
  return moved;
}

base::Result<base::UniqueFd> open_backup_dir(int base, const std::string& path, bool beneath) {
  std::string shown = "--backup-dir " + path;
  if (path.empty()) return base::fail_msg("--backup-dir: an empty name");
  uint64_t resolve = beneath ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS : 0;
  if (beneath && path.front() == '/') return base::fail_msg(shown + ": not relative to the target");
  base::UniqueFd at =
      TRY(sys::openat2(path.front() == '/' ? AT_FDCWD : base, path.front() == '/' ? "/" : ".",
                       O_PATH | O_DIRECTORY, 0, 0, shown));
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string comp = path.substr(start, end - start);
    start = end + 1;
    if (comp.empty() || comp == ".") continue;
    auto next = sys::openat2(at.get(), comp, O_PATH | O_DIRECTORY, 0, resolve, shown);
    if (!next && next.error().code() == ENOENT) {
      auto made = sys::mkdirat(at.get(), comp, 0755, shown);
      if (!made && made.error().code() != EEXIST) return base::fail(std::move(made).error());
      next = sys::openat2(at.get(), comp, O_PATH | O_DIRECTORY, 0, resolve, shown);
    }
    at = TRY(std::move(next));
  }
  return at;
}

}  // namespace ferry
