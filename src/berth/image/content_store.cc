#include "berth/image/content_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "berth/image/digest.h"

namespace berth {

ContentStore::ContentStore(std::string root) : dir_(std::move(root) + "/blobs/sha256") {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

std::string ContentStore::path(const std::string& digest) const {
  return dir_ + "/" + digest_hex(digest);
}

bool ContentStore::has(const std::string& digest) const {
  return check_digest(digest, "digest") && ::access(path(digest).c_str(), F_OK) == 0;
}

base::Result<std::string> ContentStore::put(const std::function<base::Status(const Sink&)>& produce,
                                            const std::string& expected) {
  if (!expected.empty()) TRY_STATUS(check_digest(expected, "expected digest"));
  std::string tmp =
      fmt::format("{}/.tmp-{}-{}", dir_, ::getpid(), static_cast<const void*>(&produce));
  base::UniqueFd fd = TRY(base::sys::open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
  Sha256 hash;
  auto written = produce([&](const void* data, size_t len) -> base::Status {
    hash.update(data, len);
    return base::sys::write_all(fd.get(), data, len, tmp);
  });
  std::string digest = hash.digest();
  if (written && !expected.empty() && digest != expected)
    written = base::fail_msg(fmt::format("digest mismatch: expected {}, got {}", expected, digest));
  if (written) written = base::sys::fsync(fd.get(), tmp);
  fd.reset();
  if (written) written = base::sys::renameat(AT_FDCWD, tmp, AT_FDCWD, path(digest));
  if (!written) {
    ::unlink(tmp.c_str());
    return base::fail(std::move(written).error());
  }
  return digest;
}

base::Result<std::string> ContentStore::put_bytes(const std::string& bytes,
                                                  const std::string& expected) {
  return put([&](const Sink& sink) { return sink(bytes.data(), bytes.size()); }, expected);
}

base::Result<std::string> ContentStore::read(const std::string& digest) const {
  TRY_STATUS(check_digest(digest, "digest"));
  std::string text = TRY(base::read_text(path(digest)));
  Sha256 hash;
  hash.update(text.data(), text.size());
  if (hash.digest() != digest)
    return base::fail_msg(fmt::format("blob {} is damaged (its digest differs)", digest));
  return text;
}

}  // namespace berth
