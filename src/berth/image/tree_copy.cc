#include "berth/image/tree_copy.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace berth {
namespace {
namespace sys = base::sys;

EntryMeta meta_of(const struct stat& st, const std::optional<CopyOwner>& owner) {
  return {static_cast<mode_t>(st.st_mode & 07777), owner ? owner->uid : st.st_uid,
          owner ? owner->gid : st.st_gid, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : fmt::format("{}/{}", dir, name);
}

base::Status copy_file(int in, const struct stat& st, LayerWriter& out, const std::string& rel,
                       const std::string& shown, const std::optional<CopyOwner>& owner) {
  base::UniqueFd file = TRY(out.file(rel, meta_of(st, owner)));
  uint64_t copied = 0;
  for (;;) {
    size_t n = TRY(sys::sendfile(file.get(), in, nullptr, size_t{1} << 30, shown));
    if (n == 0) break;
    copied += n;
  }
  return out.finish_file(std::move(file), meta_of(st, owner), copied);
}

}  // namespace

base::Status copy_tree(int src, LayerWriter& out, const std::string& prefix,
                       const std::string& shown, const std::optional<CopyOwner>& owner) {
  for (const std::string& name : TRY(base::list_dir(src, shown))) {
    std::string rel = join(prefix, name);
    std::string from = fmt::format("{}/{}", shown, name);
    struct stat st = TRY(sys::fstatat(src, name, AT_SYMLINK_NOFOLLOW, from));
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
      int flags = O_RDONLY | O_NOFOLLOW | (S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NONBLOCK);
      base::UniqueFd fd = TRY(sys::openat(src, name, flags, 0, from));
      TRY_STATUS(copy_entry(fd.get(), st, out, rel, from, owner));
    } else if (S_ISLNK(st.st_mode)) {
      TRY_STATUS(out.symlink(rel, TRY(sys::readlinkat(src, name, from)), meta_of(st, owner)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      TRY_STATUS(out.special(rel, st.st_mode & S_IFMT, st.st_rdev, meta_of(st, owner)));
    }
  }
  return {};
}

base::Status copy_entry(int fd, const struct stat& st, LayerWriter& out, const std::string& rel,
                        const std::string& shown, const std::optional<CopyOwner>& owner) {
  struct stat now = TRY(sys::fstat(fd, shown));
  if (now.st_ino != st.st_ino || (now.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
    return base::fail_msg(fmt::format("{}: changed while it was copied", shown));
  if (S_ISDIR(st.st_mode)) {
    TRY_STATUS(out.directory(rel, meta_of(st, owner)));
    return copy_tree(fd, out, rel, shown, owner);
  }
  if (S_ISREG(st.st_mode)) return copy_file(fd, st, out, rel, shown, owner);
  return base::fail_msg(fmt::format("{}: not a file or a directory", shown));
}

}  // namespace berth
