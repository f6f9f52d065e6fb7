#include "berth/image/layer_writer.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"

namespace berth {
namespace {

// Parents never go through symlinks: a layer's own symlink cannot redirect
// later entries (as libarchive's secure-symlinks mode, and tar --unlink-first).
constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

base::Error failed(int err, const char* op, const std::string& rel) {
  return base::Error::sys(err, op, rel);
}

timespec times_of(const EntryMeta& m) {
  return timespec{m.mtime_sec, m.mtime_nsec};
}

}  // namespace

base::Result<LayerWriter> LayerWriter::open(const std::string& root) {
  base::UniqueFd fd = TRY(base::sys::open(root, O_PATH | O_DIRECTORY));
  return LayerWriter(std::move(fd), root);
}

base::Result<base::UniqueFd> LayerWriter::open_dir(const std::string& rel, bool create) {
  if (rel.empty()) return base::UniqueFd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3));
  auto fd = base::sys::openat2(root_.get(), rel, O_PATH | O_DIRECTORY, 0, kBeneath);
  if (fd || !create) return fd;
  // Walk it component by component: make what is missing, and replace what
  // is not a directory (a symlink, a file) with one.
  base::UniqueFd at(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3));
  for (size_t start = 0; start < rel.size();) {
    size_t slash = rel.find('/', start);
    std::string name =
        rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    start = slash == std::string::npos ? rel.size() : slash + 1;
    auto next = base::sys::openat2(at.get(), name, O_PATH | O_DIRECTORY, 0, kBeneath);
    if (!next) {
      clear(at.get(), name);
      if (::mkdirat(at.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        return base::fail(failed(errno, "mkdir", rel));
      next = base::sys::openat2(at.get(), name, O_PATH | O_DIRECTORY, 0, kBeneath);
      if (!next) return base::fail(std::move(next).error());
    }
    at = std::move(*next);
  }
  return at;
}

base::Result<int> LayerWriter::parent_of(const std::string& rel, std::string& name) {
  auto slash = rel.rfind('/');
  std::string up = slash == std::string::npos ? "" : rel.substr(0, slash);
  name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (!parent_ || up != parent_rel_) {
    parent_ = TRY(open_dir(up, true));
    parent_rel_ = up;
  }
  return parent_.get();
}

void LayerWriter::clear(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) != 0 && errno == EISDIR)
    (void)::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
}

base::Status LayerWriter::directory(const std::string& rel, const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (::mkdirat(dir, name.c_str(), m.mode & 07777) != 0) {
    struct stat st {};
    if (errno != EEXIST) return base::fail(failed(errno, "mkdir", rel));
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
      clear(dir, name);
      if (::mkdirat(dir, name.c_str(), m.mode & 07777) != 0)
        return base::fail(failed(errno, "mkdir", rel));
    }
  }
  if (::fchownat(dir, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return base::fail(failed(errno, "chown", rel));
  if (::fchmodat(dir, name.c_str(), m.mode & 07777, 0) != 0)
    return base::fail(failed(errno, "chmod", rel));
  dir_times_.push_back({rel, m});
  return {};
}

base::Result<base::UniqueFd> LayerWriter::file(const std::string& rel, const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::openat(dir, name.c_str(), flags, m.mode & 0777);
  if (fd < 0 && (errno == ELOOP || errno == EISDIR || errno == ETXTBSY || errno == EACCES)) {
    clear(dir, name);
    fd = ::openat(dir, name.c_str(), flags, m.mode & 0777);
  }
  if (fd < 0) return base::fail(failed(errno, "create", rel));
  return base::UniqueFd(fd);
}

base::Status LayerWriter::finish_file(base::UniqueFd fd, const EntryMeta& m, uint64_t size) {
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)  // sparse files end in a hole
    return base::fail(base::Error::sys(errno, "ftruncate", path_));
  if (::fchown(fd.get(), m.uid, m.gid) != 0)
    return base::fail(base::Error::sys(errno, "chown", path_));
  if (::fchmod(fd.get(), m.mode & 07777) != 0)  // after chown, which clears setuid bits
    return base::fail(base::Error::sys(errno, "chmod", path_));
  timespec t[2] = {times_of(m), times_of(m)};
  if (::futimens(fd.get(), t) != 0) return base::fail(base::Error::sys(errno, "utimens", path_));
  return {};
}

base::Status LayerWriter::symlink(const std::string& rel, const std::string& target,
                                  const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (::symlinkat(target.c_str(), dir, name.c_str()) != 0) {
    if (errno != EEXIST) return base::fail(failed(errno, "symlink", rel));
    clear(dir, name);
    if (::symlinkat(target.c_str(), dir, name.c_str()) != 0)
      return base::fail(failed(errno, "symlink", rel));
  }
  if (::fchownat(dir, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return base::fail(failed(errno, "chown", rel));
  timespec t[2] = {times_of(m), times_of(m)};
  (void)::utimensat(dir, name.c_str(), t, AT_SYMLINK_NOFOLLOW);
  return {};
}

base::Status LayerWriter::hardlink(const std::string& rel, const std::string& target_rel) {
  std::string target_name;
  std::string up =
      target_rel.rfind('/') == std::string::npos ? "" : target_rel.substr(0, target_rel.rfind('/'));
  target_name = target_rel.substr(up.empty() ? 0 : up.size() + 1);
  base::UniqueFd target_dir = TRY(open_dir(up, false));
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (::linkat(target_dir.get(), target_name.c_str(), dir, name.c_str(), 0) != 0) {
    if (errno != EEXIST) return base::fail(failed(errno, "link", rel + " -> " + target_rel));
    clear(dir, name);
    if (::linkat(target_dir.get(), target_name.c_str(), dir, name.c_str(), 0) != 0)
      return base::fail(failed(errno, "link", rel + " -> " + target_rel));
  }
  return {};
}

base::Status LayerWriter::special(const std::string& rel, mode_t type, dev_t rdev,
                                  const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  clear(dir, name);
  if (::mknodat(dir, name.c_str(), type | (m.mode & 07777), rdev) != 0)
    return base::fail(failed(errno, "mknod", rel));
  if (::fchownat(dir, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return base::fail(failed(errno, "chown", rel));
  return {};
}

base::Status LayerWriter::whiteout(const std::string& rel) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (name == ".wh..wh..opq") {
    // An O_PATH fd cannot carry xattrs: go through its /proc/self/fd name.
    std::string self = fmt::format("/proc/self/fd/{}", dir);
    if (::setxattr(self.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
      return base::fail(failed(errno, "setxattr (opaque)", rel));
    return {};
  }
  std::string hidden = name.substr(4);
  clear(dir, hidden);
  if (::mknodat(dir, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    return base::fail(failed(errno, "mknod (whiteout)", rel));
  return {};
}

base::Status LayerWriter::finish() {
  parent_.reset();
  for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
    std::string name;
    int dir = TRY(parent_of(it->rel, name));
    timespec t[2] = {times_of(it->meta), times_of(it->meta)};
    (void)::utimensat(dir, name.c_str(), t, AT_SYMLINK_NOFOLLOW);
  }
  parent_.reset();
  return {};
}

}  // namespace berth
