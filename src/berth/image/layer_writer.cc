#include "berth/image/layer_writer.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"

namespace berth {
namespace {

// A layer's parents never go through symlinks: a layer's own symlink cannot
// redirect later entries (as libarchive's secure-symlinks mode, and tar
// --unlink-first).
constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
// A container's root: symlinks are followed as the container sees them.
constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// The error of a wrapper's failure, worded as this file's messages are.
base::Error failed(const base::Error& e, const char* op, const std::string& rel) {
  return base::Error::sys(e.code(), op, rel);
}

timespec times_of(const EntryMeta& m) {
  return timespec{m.mtime_sec, m.mtime_nsec};
}

}  // namespace

base::Result<LayerWriter> LayerWriter::open(const std::string& root) {
  base::UniqueFd fd = TRY(base::sys::open(root, O_PATH | O_DIRECTORY));
  return LayerWriter(std::move(fd), root);
}

LayerWriter LayerWriter::in_root(base::UniqueFd root, std::string shown) {
  LayerWriter w(std::move(root), std::move(shown));
  w.resolve_ = kInRoot;
  return w;
}

base::Result<base::UniqueFd> LayerWriter::open_dir(const std::string& rel, bool create) {
  if (rel.empty()) return base::UniqueFd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3));
  const uint64_t resolve = resolve_ ? resolve_ : kBeneath;
  auto fd = base::sys::openat2(root_.get(), rel, O_PATH | O_DIRECTORY, 0, resolve);
  if (fd || !create) return fd;
  // Walk it prefix by prefix from the root: make what is missing, and replace
  // what is not a directory (a file; a symlink, unless it is followed) with one.
  base::UniqueFd at(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3));
  for (size_t start = 0; start < rel.size();) {
    size_t slash = rel.find('/', start);
    std::string name =
        rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string prefix = rel.substr(0, slash);
    start = slash == std::string::npos ? rel.size() : slash + 1;
    auto next = base::sys::openat2(root_.get(), prefix, O_PATH | O_DIRECTORY, 0, resolve);
    if (!next) {
      clear(at.get(), name);
      auto made = base::sys::mkdirat(at.get(), name, 0755);
      if (!made && made.error().code() != EEXIST)
        return base::fail(failed(made.error(), "mkdir", rel));
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
  auto removed = base::sys::unlinkat(dir, name, 0);
  if (!removed && removed.error().code() == EISDIR)
    (void)base::sys::unlinkat(dir, name, AT_REMOVEDIR);
}

base::Status LayerWriter::directory(const std::string& rel, const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (auto made = base::sys::mkdirat(dir, name, m.mode & 07777); !made) {
    if (made.error().code() != EEXIST) return base::fail(failed(made.error(), "mkdir", rel));
    auto st = base::sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW);
    if (st && !S_ISDIR(st->st_mode)) {
      clear(dir, name);
      if (auto again = base::sys::mkdirat(dir, name, m.mode & 07777); !again)
        return base::fail(failed(again.error(), "mkdir", rel));
    }
  }
  // Owner and mode through an fd of the directory itself: a name that a
  // running container swapped for a symlink meanwhile is refused, never
  // followed to whatever it names.
  auto made = base::sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!made) return base::fail(failed(made.error(), "open", rel));
  if (auto s = base::sys::fchown(made->get(), m.uid, m.gid); !s)
    return base::fail(failed(s.error(), "chown", rel));
  if (auto s = base::sys::fchmod(made->get(), m.mode & 07777); !s)
    return base::fail(failed(s.error(), "chmod", rel));
  dir_times_.push_back({rel, m});
  return {};
}

base::Result<base::UniqueFd> LayerWriter::file(const std::string& rel, const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  // Always a new file: whatever holds the name already (a device node or a
  // FIFO an earlier entry made, a hard link to another file) is removed
  // first, never opened and written through.
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  auto fd = base::sys::openat(dir, name, flags, m.mode & 0777);
  if (!fd && fd.error().code() == EEXIST) {
    clear(dir, name);
    fd = base::sys::openat(dir, name, flags, m.mode & 0777);
  }
  if (!fd) return base::fail(failed(fd.error(), "create", rel));
  return std::move(*fd);
}

base::Status LayerWriter::finish_file(base::UniqueFd fd, const EntryMeta& m, uint64_t size,
                                      const Xattrs& xattrs) {
  // Sparse files end in a hole.
  if (auto s = base::sys::ftruncate(fd.get(), static_cast<off_t>(size)); !s)
    return base::fail(failed(s.error(), "ftruncate", path_));
  if (auto s = base::sys::fchown(fd.get(), m.uid, m.gid); !s)
    return base::fail(failed(s.error(), "chown", path_));
  // After chown, which clears setuid bits.
  if (auto s = base::sys::fchmod(fd.get(), m.mode & 07777); !s)
    return base::fail(failed(s.error(), "chmod", path_));
  for (const auto& [name, value] : xattrs)
    if (auto s = base::sys::fsetxattr(fd.get(), name, value.data(), value.size(), 0, name);
        !s && s.error().code() != ENOTSUP)
      return base::fail(failed(s.error(), "setxattr", path_));
  timespec t[2] = {times_of(m), times_of(m)};
  if (auto s = base::sys::futimens(fd.get(), t); !s)
    return base::fail(failed(s.error(), "utimens", path_));
  return {};
}

base::Status LayerWriter::symlink(const std::string& rel, const std::string& target,
                                  const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (auto made = base::sys::symlinkat(target, dir, name); !made) {
    if (made.error().code() != EEXIST) return base::fail(failed(made.error(), "symlink", rel));
    clear(dir, name);
    if (auto again = base::sys::symlinkat(target, dir, name); !again)
      return base::fail(failed(again.error(), "symlink", rel));
  }
  if (auto s = base::sys::fchownat(dir, name, m.uid, m.gid, AT_SYMLINK_NOFOLLOW); !s)
    return base::fail(failed(s.error(), "chown", rel));
  timespec t[2] = {times_of(m), times_of(m)};
  (void)base::sys::utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW);
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
  if (auto made = base::sys::linkat(target_dir.get(), target_name, dir, name, 0); !made) {
    if (made.error().code() != EEXIST)
      return base::fail(failed(made.error(), "link", rel + " -> " + target_rel));
    clear(dir, name);
    if (auto again = base::sys::linkat(target_dir.get(), target_name, dir, name, 0); !again)
      return base::fail(failed(again.error(), "link", rel + " -> " + target_rel));
  }
  return {};
}

base::Status LayerWriter::special(const std::string& rel, mode_t type, dev_t rdev,
                                  const EntryMeta& m) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  clear(dir, name);
  if (auto s = base::sys::mknodat(dir, name, type | (m.mode & 07777), rdev); !s)
    return base::fail(failed(s.error(), "mknod", rel));
  // Owner and mode on the node made, held as an O_PATH fd (never opened:
  // a device's driver is not called), and only while it is still that
  // node: a symlink swapped in meanwhile is refused, not followed.
  auto node = base::sys::openat(dir, name, O_PATH | O_NOFOLLOW);
  if (!node) return base::fail(failed(node.error(), "open", rel));
  auto st = base::sys::fstat(node->get());
  if (!st || (st->st_mode & S_IFMT) != type)
    return base::fail_msg(fmt::format("{}: {}: replaced while it was written", path_, rel));
  if (auto s = base::sys::fchownat(node->get(), "", m.uid, m.gid, AT_EMPTY_PATH); !s)
    return base::fail(failed(s.error(), "chown", rel));
  // The mode as the layer says, not as the umask left it; then its time.
  std::string self = fmt::format("/proc/self/fd/{}", node->get());
  if (auto s = base::sys::fchmodat(AT_FDCWD, self, m.mode & 07777); !s)
    return base::fail(failed(s.error(), "chmod", rel));
  timespec t[2] = {times_of(m), times_of(m)};
  (void)base::sys::utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW);
  return {};
}

base::Status LayerWriter::whiteout(const std::string& rel) {
  std::string name;
  int dir = TRY(parent_of(rel, name));
  if (name == ".wh..wh..opq") {
    // An O_PATH fd cannot carry xattrs: go through its /proc/self/fd name.
    std::string self = fmt::format("/proc/self/fd/{}", dir);
    if (auto s = base::sys::setxattr(self, "trusted.overlay.opaque", "y", 1, 0); !s)
      return base::fail(failed(s.error(), "setxattr (opaque)", rel));
    return {};
  }
  std::string hidden = name.substr(4);
  clear(dir, hidden);
  if (auto s = base::sys::mknodat(dir, hidden, S_IFCHR | 0, makedev(0, 0)); !s)
    return base::fail(failed(s.error(), "mknod (whiteout)", rel));
  return {};
}

base::Status LayerWriter::finish() {
  parent_.reset();
  for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
    std::string name;
    int dir = TRY(parent_of(it->rel, name));
    timespec t[2] = {times_of(it->meta), times_of(it->meta)};
    (void)base::sys::utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW);
  }
  parent_.reset();
  return {};
}

}  // namespace berth
