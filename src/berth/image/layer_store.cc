#include "berth/image/layer_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sys.h"
#include "berth/image/digest.h"
#include "berth/image/layer_decompressor.h"
#include "berth/image/layer_writer.h"
#include "berth/image/libarchive_calls.h"

namespace berth {
namespace {

const LibArchive& la() {
  return libarchive();
}

// Decompresses the layer stream and hashes the result (the diff id) on a
// thread of its own, handing the tar to a pipe: decompression and file
// writing then run on two cores, as `gzip -dc | tar x` does.
struct Decompressor {
  base::Status status;
  std::string diff_id;

  void run(int in, base::UniqueFd out, const std::string& what) {
    Sha256 hash;
    status = decompress_stream(
        in,
        [&](const char* data, size_t len) -> base::Status {
          hash.update(data, len);
          return base::sys::write_all(out.get(), data, len, "layer tar");  // EPIPE: tar side failed
        },
        what);
    if (status) diff_id = hash.digest();
  }
};

// Rejects absolute names and ".." components; returns the cleaned relative path.
base::Result<std::string> clean_entry_path(const char* name) {
  std::string p = name ? name : "";
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  if (p.empty() || p == ".") return std::string();
  if (p.front() == '/') return base::fail_msg(fmt::format("entry '{}' has an absolute path", p));
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (p.compare(start, end - start, "..") == 0)
      return base::fail_msg(fmt::format("entry '{}' climbs out of the layer", p));
    start = end + 1;
  }
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

// Copies the data of the current entry into `fd` (sparse entries keep their holes).
base::Status copy_data(archive* tar, int fd, const std::string& rel) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  int rc;
  while ((rc = la().archive_read_data_block(tar, &buf, &size, &offset)) == ARCHIVE_OK)
    TRY_STATUS(base::sys::pwrite_all(fd, buf, size, offset, rel));
  if (rc != ARCHIVE_EOF) return base::fail_msg(la().archive_error_string(tar));
  return {};
}

// Writes one entry through the layer writer.
base::Status write_entry(archive* tar, archive_entry* e, const std::string& rel, LayerWriter& out) {
  auto slash = rel.rfind('/');
  if (rel.compare(slash == std::string::npos ? 0 : slash + 1, 4, ".wh.") == 0)
    return out.whiteout(rel);
  EntryMeta m;
  m.mode = la().archive_entry_perm(e);
  m.uid = static_cast<uid_t>(la().archive_entry_uid(e));
  m.gid = static_cast<gid_t>(la().archive_entry_gid(e));
  m.mtime_sec = la().archive_entry_mtime(e);
  m.mtime_nsec = la().archive_entry_mtime_nsec(e);
  if (const char* link = la().archive_entry_hardlink(e))
    return out.hardlink(rel, TRY(clean_entry_path(link)));
  switch (la().archive_entry_filetype(e)) {
    case AE_IFDIR:
      return out.directory(rel, m);
    case AE_IFLNK: {
      const char* target = la().archive_entry_symlink(e);
      return out.symlink(rel, target ? target : "", m);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return out.special(rel, la().archive_entry_filetype(e), la().archive_entry_rdev(e), m);
    case AE_IFREG: {
      base::UniqueFd fd = TRY(out.file(rel, m));
      TRY_STATUS(copy_data(tar, fd.get(), rel));
      // Extended attributes (file capabilities, for one) travel with the file.
      LayerWriter::Xattrs xattrs;
      la().archive_entry_xattr_reset(e);
      const char* name;
      const void* value;
      size_t size;
      while (la().archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
        xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
      return out.finish_file(std::move(fd), m, static_cast<uint64_t>(la().archive_entry_size(e)),
                             xattrs);
    }
    default:
      return {};  // sockets and unknown kinds: nothing an image needs
  }
}

// Unpacks the tar read from `fd` into `dir`.
base::Status untar(int fd, const std::string& dir, const std::string& blob_path) {
  archive_entry* e = nullptr;
  ArchiveReader tar(la().archive_read_new());
  la().archive_read_support_format_tar(tar.get());
  la().archive_read_support_format_gnutar(tar.get());
  if (la().archive_read_open_fd(tar.get(), fd, 1 << 20) != ARCHIVE_OK)
    return base::fail_msg(
        fmt::format("layer {}: {}", blob_path, la().archive_error_string(tar.get())));
  LayerWriter out = TRY(LayerWriter::open(dir));
  for (;;) {
    int rc = la().archive_read_next_header(tar.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return base::fail_msg(
          fmt::format("layer {}: {}", blob_path, la().archive_error_string(tar.get())));
    std::string rel = TRY(clean_entry_path(la().archive_entry_pathname(e)));
    if (rel.empty()) continue;
    if (auto s = write_entry(tar.get(), e, rel, out); !s)
      return base::fail(std::move(s).error().context(fmt::format("layer entry '{}'", rel)));
  }
  return out.finish();
}

base::Status extract_into(int fd, const std::string& blob_path, const std::string& dir,
                          std::string& diff_id) {
  if (!la().error.empty()) return base::fail_msg(la().error);
  auto pipe = base::sys::pipe();
  if (!pipe) return base::fail(base::Error::sys(pipe.error().code(), "pipe2"));
  base::UniqueFd tar_in = std::move(pipe->read);
  ::fcntl(pipe->write.get(), F_SETPIPE_SZ, 1 << 20);  // best effort: fewer wakeups
  ::signal(SIGPIPE, SIG_IGN);                         // a failed tar side closes the pipe: EPIPE
  Decompressor d;
  std::thread decompressing(&Decompressor::run, &d, fd, std::move(pipe->write),
                            "layer " + blob_path);
  base::Status s = untar(tar_in.get(), dir, blob_path);
  if (s) {  // the diff id covers the whole stream, also what follows the tar's end
    char sink[65536];
    while (::read(tar_in.get(), sink, sizeof sink) > 0) {
    }
  }
  tar_in.reset();
  decompressing.join();
  if (!d.status && (s || d.status.error().code() != EPIPE))
    return base::fail(std::move(d.status).error());
  TRY_STATUS(s);
  diff_id = d.diff_id;
  return {};
}

}  // namespace

LayerStore::LayerStore(std::string root) : dir_(std::move(root) + "/layers") {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

std::string LayerStore::path(const std::string& diff_id) const {
  return dir_ + "/" + digest_hex(diff_id);
}

bool LayerStore::has(const std::string& diff_id) const {
  return check_digest(diff_id, "diff id") && ::access(path(diff_id).c_str(), F_OK) == 0;
}

LayerStore::Pending::Pending(std::string tmp, std::string diff_id)
    : tmp_(std::move(tmp)), diff_id_(std::move(diff_id)) {}

LayerStore::Pending::Pending(Pending&& other) noexcept
    : tmp_(std::move(other.tmp_)), diff_id_(std::move(other.diff_id_)) {
  other.tmp_.clear();
}

LayerStore::Pending::~Pending() {
  std::error_code ec;
  if (!tmp_.empty()) std::filesystem::remove_all(tmp_, ec);
}

base::Result<LayerStore::Pending> LayerStore::extract(int fd, const std::string& what) {
  static std::atomic<unsigned> serial{0};
  std::string tmp = fmt::format("{}/.tmp-{}-{}", dir_, ::getpid(), serial++);
  std::error_code ec;
  std::filesystem::create_directory(tmp, ec);
  if (ec) return base::fail(base::Error::sys(ec.value(), "mkdir", tmp));
  Pending pending(tmp, "");
  TRY_STATUS(extract_into(fd, what, tmp, pending.diff_id_));
  return pending;
}

base::Result<std::string> LayerStore::commit(Pending pending, const std::string& expected) {
  const std::string& diff_id = pending.diff_id_;
  if (!expected.empty() && diff_id != expected)
    return base::fail_msg(
        fmt::format("layer diff id mismatch: expected {}, got {}", expected, diff_id));
  // When another unpack of the same layer won, ours is dropped with `pending`.
  auto renamed = base::sys::renameat(AT_FDCWD, pending.tmp_, AT_FDCWD, path(diff_id));
  if (renamed) {
    pending.tmp_.clear();
  } else if (renamed.error().code() != ENOTEMPTY && renamed.error().code() != EEXIST) {
    return base::fail(std::move(renamed).error());
  }
  return diff_id;
}

base::Status LayerStore::adopt(const std::string& dir, const std::string& diff_id) {
  TRY_STATUS(check_digest(diff_id, "diff id"));
  if (has(diff_id)) return base::remove_tree(dir);
  TRY_STATUS(base::sys::fchmodat(AT_FDCWD, dir, 0755, dir));
  TRY_STATUS(base::sys::fchownat(AT_FDCWD, dir, 0, 0, 0, dir));
  auto renamed = base::sys::renameat(AT_FDCWD, dir, AT_FDCWD, path(diff_id));
  if (renamed) return {};
  if (renamed.error().code() != ENOTEMPTY && renamed.error().code() != EEXIST)
    return base::fail(std::move(renamed).error());
  return base::remove_tree(dir);  // another pack of the same layer won
}

base::Result<std::string> LayerStore::unpack(const std::string& blob_path,
                                             const std::string& expected) {
  if (!expected.empty() && has(expected)) return expected;
  base::UniqueFd fd = TRY(base::sys::open(blob_path, O_RDONLY | O_CLOEXEC));
  Pending pending = TRY(extract(fd.get(), blob_path));
  return commit(std::move(pending), expected);
}

}  // namespace berth
