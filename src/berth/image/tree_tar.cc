#include "berth/image/tree_tar.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "berth/image/libarchive_calls.h"

namespace berth {
namespace {

constexpr int kMaxDepth = 256;
constexpr const char* kOpaque = "trusted.overlay.opaque";
constexpr const char* kCapability = "security.capability";

struct EntryFree {
  void operator()(archive_entry* e) const { libarchive().archive_entry_free(e); }
};

}  // namespace

base::Status TreeTar::directory(int dir_fd, const std::string& rel) {
  if (std::count(rel.begin(), rel.end(), '/') >= kMaxDepth)
    return base::fail_msg(fmt::format("{}: deeper than {} directories", path_of(rel), kMaxDepth));
  for (const std::string& name : TRY(base::list_dir(dir_fd, path_of(rel)))) {
    std::string child = rel.empty() ? name : fmt::format("{}/{}", rel, name);
    struct stat st = TRY(base::sys::fstatat(dir_fd, name, AT_SYMLINK_NOFOLLOW, path_of(child)));
    // A socket (a program's leftover) has no meaning in a tar: it is left
    // out, as docker's layer writer leaves it out.
    if (S_ISSOCK(st.st_mode)) continue;
    ++entries_;
    if (options_.layer && S_ISCHR(st.st_mode) && st.st_rdev == 0) {  // an overlayfs whiteout
      std::string wh = fmt::format("{}{}.wh.{}", rel, rel.empty() ? "" : "/", name);
      TRY_STATUS(header(wh, child, st, AE_IFREG, 0));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      TRY_STATUS(header(child + "/", child, st, AE_IFDIR, 0));
      if (options_.layer) {
        auto opaque = TRY(base::sys::lgetxattr(path_of(child), kOpaque));
        if (opaque && *opaque == "y")
          TRY_STATUS(header(child + "/.wh..wh..opq", child, st, AE_IFREG, 0));
        TRY_STATUS(strip_overlay_attributes(path_of(child)));
      }
      base::UniqueFd sub = TRY(
          base::sys::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, path_of(child)));
      TRY_STATUS(directory(sub.get(), child));
      continue;
    }
    if (options_.layer) TRY_STATUS(strip_overlay_attributes(path_of(child)));
    if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) {
        auto [it, first] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), child);
        if (!first) {
          TRY_STATUS(header(child, child, st, AE_IFREG, 0, {}, it->second));
          continue;
        }
      }
      // Opened only as the file it still is: never a device or FIFO put in its place.
      base::UniqueFd fd = TRY(base::open_checked(dir_fd, name, false, path_of(child)));
      TRY_STATUS(file(fd.get(), child, st));
    } else if (S_ISLNK(st.st_mode)) {
      TRY_STATUS(header(child, child, st, AE_IFLNK, 0,
                        TRY(base::sys::readlinkat(dir_fd, name, path_of(child)))));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      TRY_STATUS(header(child, child, st, st.st_mode & S_IFMT, 0));
    }
  }
  return {};
}

base::Status TreeTar::top_directory(const struct stat& st) {
  ++entries_;
  return header("", "", st, AE_IFDIR, 0);
}

base::Status TreeTar::single_file(int fd, const struct stat& st) {
  ++entries_;
  return file(fd, "", st);
}

base::Status TreeTar::single_symlink(const std::string& target, const struct stat& st) {
  ++entries_;
  return header("", "", st, AE_IFLNK, 0, target);
}

base::Status TreeTar::file(int fd, const std::string& rel, const struct stat& st) {
  struct stat now = TRY(base::sys::fstat(fd, path_of(rel)));
  if (!S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_size != st.st_size)
    return base::fail_msg(fmt::format("{}: changed while it was read", path_of(rel)));
  TRY_STATUS(header(rel, rel, st, AE_IFREG, static_cast<uint64_t>(st.st_size)));
  std::vector<char> buf(1 << 20);
  uint64_t left = static_cast<uint64_t>(st.st_size);
  while (left > 0) {
    size_t n = TRY(base::sys::read(fd, buf.data(), buf.size(), path_of(rel)));
    if (n == 0) break;
    n = static_cast<size_t>(std::min<uint64_t>(n, left));
    if (libarchive().archive_write_data(a_, buf.data(), n) < 0) return archive_error();
    left -= n;
  }
  if (left > 0) return base::fail_msg(fmt::format("{}: changed while it was read", path_of(rel)));
  return {};
}

base::Status TreeTar::header(const std::string& name, const std::string& rel, const struct stat& st,
                             unsigned type, uint64_t size, const std::string& symlink,
                             const std::string& hardlink) {
  const LibArchive& la = libarchive();
  std::unique_ptr<archive_entry, EntryFree> e(la.archive_entry_new());
  std::string full = options_.prefix + name;
  if (full.empty()) return {};  // the root itself, unnamed
  la.archive_entry_set_pathname(e.get(), full.c_str());
  la.archive_entry_set_filetype(e.get(), type);
  // A whiteout is an empty file of mode 0600, as docker writes it.
  bool whiteout = type == AE_IFREG && S_ISCHR(st.st_mode);
  la.archive_entry_set_perm(e.get(), whiteout ? 0600 : st.st_mode & 07777);
  la.archive_entry_set_uid(e.get(), st.st_uid);
  la.archive_entry_set_gid(e.get(), st.st_gid);
  // A plain tar has whole seconds, as tar(1) writes them: no pax header
  // for every entry, which GNU tar would warn about.
  la.archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, options_.layer ? st.st_mtim.tv_nsec : 0);
  la.archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  if (!symlink.empty()) la.archive_entry_set_symlink(e.get(), symlink.c_str());
  if (!hardlink.empty()) {
    la.archive_entry_set_hardlink(e.get(), (options_.prefix + hardlink).c_str());
    la.archive_entry_set_size(e.get(), 0);
  }
  if (type == AE_IFCHR || type == AE_IFBLK) la.archive_entry_set_rdev(e.get(), st.st_rdev);
  if (options_.layer && S_ISREG(st.st_mode) && hardlink.empty()) {  // not a whiteout's or mark's
    auto cap = TRY(base::sys::lgetxattr(path_of(rel), kCapability));
    if (cap) la.archive_entry_xattr_add_entry(e.get(), kCapability, cap->data(), cap->size());
  }
  // ARCHIVE_WARN: a name that is not UTF-8, written as it is (hdrcharset=BINARY).
  if (la.archive_write_header(a_, e.get()) < ARCHIVE_WARN) return archive_error();
  return {};
}

// Overlayfs's notes about copy-ups (origin, impure, ...) mean nothing in
// a lower layer; only the opaque mark is part of the layer.
base::Status TreeTar::strip_overlay_attributes(const std::string& path) {
  for (const char* name :
       {"trusted.overlay.origin", "trusted.overlay.impure", "trusted.overlay.nlink",
        "trusted.overlay.upper", "trusted.overlay.metacopy", "trusted.overlay.redirect"})
    TRY_STATUS(base::sys::lremovexattr(path, name));
  return {};
}

base::Status TreeTar::archive_error() {
  if (!sink_) return sink_;
  const char* why = libarchive().archive_error_string(a_);
  return base::fail_msg(fmt::format("{}: writing the tar: {}", root_, why ? why : "failed"));
}

namespace {

struct FdOut {
  int fd;
  base::Status failed;
};

la_ssize_t write_fd(archive*, void* data, const void* buf, size_t len) {
  auto* out = static_cast<FdOut*>(data);
  if (!out->failed) return -1;
  if (auto s = base::sys::write_all(out->fd, buf, len); !s) {
    out->failed = std::move(s);
    return -1;
  }
  return static_cast<la_ssize_t>(len);
}

// A plain tar on `fd`, its entries written by `body`.
base::Status write_tar(int fd, const std::string& shown,
                       const std::function<base::Status(archive*, const base::Status&)>& body) {
  const LibArchive& la = libarchive();
  if (!la.error.empty()) return base::fail_msg(la.error);
  FdOut out{fd, {}};
  ArchiveWriter w(la.archive_write_new());
  // Names in UTF-8 where they are; a name that is not gets a pax header
  // saying it is bytes (libarchive's fallback), only that entry.
  la.archive_write_set_format_pax_restricted(w.get());
  if (la.archive_write_open(w.get(), &out, nullptr, write_fd, nullptr) != ARCHIVE_OK)
    return base::fail_msg(fmt::format("{}: cannot start the tar", shown));
  TRY_STATUS(body(w.get(), out.failed));
  if (la.archive_write_close(w.get()) != ARCHIVE_OK) {
    if (!out.failed) return out.failed;
    return base::fail_msg(fmt::format("{}: ending the tar failed", shown));
  }
  return {};
}

}  // namespace

base::Status write_tree_tar(int fd, int path_fd, const std::string& top, const std::string& shown) {
  struct stat st = TRY(base::sys::fstat(path_fd, shown));
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return base::fail_msg(fmt::format("{}: not a file or a directory", shown));
  if (!S_ISDIR(st.st_mode) && top.empty())
    return base::fail_msg(fmt::format("{}: not a directory", shown));
  return write_tar(fd, shown, [&](archive* a, const base::Status& sink) -> base::Status {
    if (S_ISDIR(st.st_mode)) {
      TreeTar tar(a, shown, {false, top.empty() ? "" : top + "/"}, sink);
      if (!top.empty()) TRY_STATUS(tar.top_directory(st));
      return tar.directory(path_fd, "");
    }
    TreeTar tar(a, shown, {false, top}, sink);
    return tar.single_file(path_fd, st);
  });
}

base::Status write_symlink_tar(int fd, const std::string& name, const std::string& target,
                               const struct stat& st, const std::string& shown) {
  return write_tar(fd, shown, [&](archive* a, const base::Status& sink) {
    TreeTar tar(a, shown, {false, name}, sink);
    return tar.single_symlink(target, st);
  });
}

}  // namespace berth
