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
#include "berth/image/tar_unpack.h"

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

// Unpacks the tar read from `fd` into `dir`.
base::Status untar(int fd, const std::string& dir, const std::string& blob_path) {
  LayerWriter out = TRY(LayerWriter::open(dir));
  return unpack_tar(fd, out, {}, "layer " + blob_path);
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
