#include "berth/image/layer_packer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "berth/image/libarchive_calls.h"

namespace berth {
namespace {

constexpr const char* kOpaque = "trusted.overlay.opaque";
constexpr const char* kCapability = "security.capability";

struct EntryFree {
  void operator()(archive_entry* e) const { libarchive().archive_entry_free(e); }
};

// What libarchive writes: hashed (the diff id), then compressed into the blob.
struct TarOut {
  base::Sha256 diff;
  std::optional<LayerCompressor> compressor;
  base::Status failed;  // the first error, reported after libarchive returns
  uint64_t tar_bytes = 0;
};

la_ssize_t write_tar(archive*, void* data, const void* buf, size_t len) {
  auto* out = static_cast<TarOut*>(data);
  if (!out->failed) return -1;
  out->diff.update(buf, len);
  out->tar_bytes += len;
  if (auto s = out->compressor->write(buf, len); !s) {
    out->failed = std::move(s);
    return -1;
  }
  return static_cast<la_ssize_t>(len);
}

class Packer {
 public:
  Packer(archive* a, TarOut& out, std::string root) : a_(a), out_(out), root_(std::move(root)) {}

  base::Status directory(int dir_fd, const std::string& rel) {
    for (const std::string& name : TRY(base::list_dir(dir_fd, path_of(rel)))) {
      std::string child = rel.empty() ? name : fmt::format("{}/{}", rel, name);
      struct stat st = TRY(base::sys::fstatat(dir_fd, name, AT_SYMLINK_NOFOLLOW, path_of(child)));
      // A socket (a program's leftover) has no meaning in a layer: it is left
      // out, as docker's layer writer leaves it out.
      if (S_ISSOCK(st.st_mode)) continue;
      ++entries_;
      if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {  // an overlayfs whiteout
        std::string wh = fmt::format("{}{}.wh.{}", rel, rel.empty() ? "" : "/", name);
        TRY_STATUS(header(wh, st, AE_IFREG, 0));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        TRY_STATUS(header(child + "/", st, AE_IFDIR, 0));
        auto opaque = TRY(base::sys::lgetxattr(path_of(child), kOpaque));
        if (opaque && *opaque == "y") TRY_STATUS(header(child + "/.wh..wh..opq", st, AE_IFREG, 0));
        TRY_STATUS(strip_overlay_attributes(path_of(child)));
        base::UniqueFd sub = TRY(
            base::sys::openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, path_of(child)));
        TRY_STATUS(directory(sub.get(), child));
        continue;
      }
      TRY_STATUS(strip_overlay_attributes(path_of(child)));
      if (S_ISREG(st.st_mode)) {
        TRY_STATUS(file(dir_fd, name, child, st));
      } else if (S_ISLNK(st.st_mode)) {
        TRY_STATUS(header(child, st, AE_IFLNK, 0,
                          TRY(base::sys::readlinkat(dir_fd, name, path_of(child)))));
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        TRY_STATUS(header(child, st, st.st_mode & S_IFMT, 0));
      }
    }
    return {};
  }

  size_t entries() const { return entries_; }
  // The layer's root carries no entry of its own: only overlayfs's notes go.
  base::Status strip_root() { return strip_overlay_attributes(root_); }

 private:
  std::string path_of(const std::string& rel) const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }

  base::Status file(int dir_fd, const std::string& name, const std::string& rel,
                    const struct stat& st) {
    if (st.st_nlink > 1) {
      auto [it, first] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      if (!first) return header(rel, st, AE_IFREG, 0, {}, it->second);
    }
    // O_NONBLOCK: what was a file a moment ago may be a FIFO now.
    base::UniqueFd fd =
        TRY(base::sys::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, path_of(rel)));
    struct stat now = TRY(base::sys::fstat(fd.get(), path_of(rel)));
    if (!S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_size != st.st_size)
      return base::fail_msg(fmt::format("{}: changed while it was packed", path_of(rel)));
    TRY_STATUS(header(rel, st, AE_IFREG, static_cast<uint64_t>(st.st_size)));
    std::vector<char> buf(1 << 20);
    uint64_t left = static_cast<uint64_t>(st.st_size);
    while (left > 0) {
      size_t n = TRY(base::sys::read(fd.get(), buf.data(), buf.size(), path_of(rel)));
      if (n == 0) break;
      n = static_cast<size_t>(std::min<uint64_t>(n, left));
      if (libarchive().archive_write_data(a_, buf.data(), n) < 0) return archive_error();
      left -= n;
    }
    if (left > 0)
      return base::fail_msg(fmt::format("{}: changed while it was packed", path_of(rel)));
    return {};
  }

  base::Status header(const std::string& rel, const struct stat& st, unsigned type, uint64_t size,
                      const std::string& symlink = {}, const std::string& hardlink = {}) {
    const LibArchive& la = libarchive();
    std::unique_ptr<archive_entry, EntryFree> e(la.archive_entry_new());
    la.archive_entry_set_pathname(e.get(), rel.c_str());
    la.archive_entry_set_filetype(e.get(), type);
    // A whiteout is an empty file of mode 0600, as docker writes it.
    bool whiteout = type == AE_IFREG && S_ISCHR(st.st_mode);
    la.archive_entry_set_perm(e.get(), whiteout ? 0600 : st.st_mode & 07777);
    la.archive_entry_set_uid(e.get(), st.st_uid);
    la.archive_entry_set_gid(e.get(), st.st_gid);
    la.archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    la.archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    if (!symlink.empty()) la.archive_entry_set_symlink(e.get(), symlink.c_str());
    if (!hardlink.empty()) {
      la.archive_entry_set_hardlink(e.get(), hardlink.c_str());
      la.archive_entry_set_size(e.get(), 0);
    }
    if (type == AE_IFCHR || type == AE_IFBLK) la.archive_entry_set_rdev(e.get(), st.st_rdev);
    if (S_ISREG(st.st_mode) && hardlink.empty()) {  // not a whiteout's or opaque mark's
      auto cap = TRY(base::sys::lgetxattr(path_of(rel), kCapability));
      if (cap) la.archive_entry_xattr_add_entry(e.get(), kCapability, cap->data(), cap->size());
    }
    // ARCHIVE_WARN: a name that is not UTF-8, written as it is (hdrcharset=BINARY).
    if (la.archive_write_header(a_, e.get()) < ARCHIVE_WARN) return archive_error();
    return {};
  }

  // Overlayfs's notes about copy-ups (origin, impure, ...) mean nothing in
  // a lower layer; only the opaque mark is part of the layer.
  base::Status strip_overlay_attributes(const std::string& path) {
    for (const char* name :
         {"trusted.overlay.origin", "trusted.overlay.impure", "trusted.overlay.nlink",
          "trusted.overlay.upper", "trusted.overlay.metacopy", "trusted.overlay.redirect"})
      TRY_STATUS(base::sys::lremovexattr(path, name));
    return {};
  }

  base::Status archive_error() {
    if (!out_.failed) return out_.failed;
    const char* why = libarchive().archive_error_string(a_);
    return base::fail_msg(fmt::format("{}: writing the layer: {}", root_, why ? why : "failed"));
  }

  archive* a_;
  TarOut& out_;
  std::string root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  size_t entries_ = 0;
};

}  // namespace

base::Result<PackedLayer> pack_layer(ImageStore& store, const std::string& dir,
                                     LayerCompression compression) {
  const LibArchive& la = libarchive();
  if (!la.error.empty()) return base::fail_msg(la.error);
  base::UniqueFd root = TRY(base::sys::open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  PackedLayer packed;
  packed.media_type = fmt::format("application/vnd.oci.image.layer.v1.{}",
                                  LayerCompressor::media_suffix(compression));
  TarOut out;
  packed.digest = TRY(store.content().put([&](const ContentStore::Sink& sink) -> base::Status {
    out.compressor.emplace(TRY(LayerCompressor::make(
        compression,
        [&](const void* data, size_t len) -> base::Status {
          packed.size += len;
          return sink(data, len);
        },
        dir)));
    ArchiveWriter w(la.archive_write_new());
    la.archive_write_set_format_pax_restricted(w.get());
    // Names are bytes, written as they are whatever the locale: the same
    // files always make the same tar, and a name that is not UTF-8 is kept.
    if (la.archive_write_set_options(w.get(), "pax:hdrcharset=BINARY") != ARCHIVE_OK)
      return base::fail_msg(fmt::format("{}: libarchive cannot write binary pax names", dir));
    if (la.archive_write_open(w.get(), &out, nullptr, write_tar, nullptr) != ARCHIVE_OK)
      return base::fail_msg(fmt::format("{}: cannot start the layer's tar", dir));
    Packer packer(w.get(), out, dir);
    TRY_STATUS(packer.strip_root());
    TRY_STATUS(packer.directory(root.get(), ""));
    packed.empty = packer.entries() == 0;
    if (la.archive_write_close(w.get()) != ARCHIVE_OK) {
      if (!out.failed) return out.failed;
      return base::fail_msg(fmt::format("{}: ending the layer's tar failed", dir));
    }
    return out.compressor->finish();
  }));
  packed.diff_id = out.diff.digest();
  TRY_STATUS(store.layers().adopt(dir, packed.diff_id));
  return packed;
}

}  // namespace berth
