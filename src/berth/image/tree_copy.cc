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

constexpr int kMaxDepth = 256;

EntryMeta meta_of(const struct stat& st, const CopyRules& rules) {
  mode_t mode = st.st_mode & 07777;
  if (rules.owner) mode &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
  return {mode, rules.owner ? rules.owner->uid : st.st_uid,
          rules.owner ? rules.owner->gid : st.st_gid, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : fmt::format("{}/{}", dir, name);
}

base::Status copy_file(int in, const struct stat& st, LayerWriter& out, const std::string& rel,
                       const std::string& shown, const CopyRules& rules) {
  base::UniqueFd file = TRY(out.file(rel, meta_of(st, rules)));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  TRY_STATUS(copy_bytes(file.get(), in, size, shown));
  return out.finish_file(std::move(file), meta_of(st, rules), size);
}

base::Status copy_below(int src, LayerWriter& out, const std::string& prefix,
                        const std::string& shown, const CopyRules& rules, int depth);

base::Status copy_one(int fd, const struct stat& st, LayerWriter& out, const std::string& rel,
                      const std::string& shown, const CopyRules& rules, int depth) {
  struct stat now = TRY(sys::fstat(fd, shown));
  if (now.st_ino != st.st_ino || now.st_dev != st.st_dev ||
      (now.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
    return base::fail_msg(fmt::format("{}: changed while it was copied", shown));
  if (S_ISDIR(st.st_mode)) {
    if (depth > kMaxDepth)
      return base::fail_msg(fmt::format("{}: deeper than {} directories", shown, kMaxDepth));
    TRY_STATUS(out.directory(rel, meta_of(st, rules)));
    return copy_below(fd, out, rel, shown, rules, depth + 1);
  }
  if (S_ISREG(st.st_mode)) return copy_file(fd, st, out, rel, shown, rules);
  return base::fail_msg(fmt::format("{}: not a file or a directory", shown));
}

base::Status copy_below(int src, LayerWriter& out, const std::string& prefix,
                        const std::string& shown, const CopyRules& rules, int depth) {
  for (const std::string& name : TRY(base::list_dir(src, shown))) {
    std::string rel = join(prefix, name);
    std::string from = fmt::format("{}/{}", shown, name);
    struct stat st = TRY(sys::fstatat(src, name, AT_SYMLINK_NOFOLLOW, from));
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
      // Opened only as what it still is: never a device or FIFO put in its place.
      base::UniqueFd fd = TRY(base::open_checked(src, name, S_ISDIR(st.st_mode), from));
      TRY_STATUS(copy_one(fd.get(), st, out, rel, from, rules, depth));
    } else if (S_ISLNK(st.st_mode)) {
      TRY_STATUS(out.symlink(rel, TRY(sys::readlinkat(src, name, from)), meta_of(st, rules)));
    } else if (S_ISFIFO(st.st_mode) ||
               (rules.devices && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))) {
      TRY_STATUS(out.special(rel, st.st_mode & S_IFMT, st.st_rdev, meta_of(st, rules)));
    }
  }
  return {};
}

}  // namespace

base::Status copy_bytes(int out, int in, uint64_t size, const std::string& shown) {
  uint64_t copied = 0;
  while (copied < size) {
    size_t n = TRY(sys::sendfile(
        out, in, nullptr, static_cast<size_t>(std::min<uint64_t>(size - copied, 1 << 30)), shown));
    if (n == 0) break;
    copied += n;
  }
  if (copied != size) return base::fail_msg(fmt::format("{}: changed while it was copied", shown));
  return {};
}

base::Status copy_tree(int src, LayerWriter& out, const std::string& prefix,
                       const std::string& shown, const CopyRules& rules) {
  return copy_below(src, out, prefix, shown, rules, 1);
}

base::Status copy_entry(int fd, const struct stat& st, LayerWriter& out, const std::string& rel,
                        const std::string& shown, const CopyRules& rules) {
  return copy_one(fd, st, out, rel, shown, rules, 1);
}

}  // namespace berth
