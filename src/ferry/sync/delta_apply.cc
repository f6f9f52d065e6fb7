#include "ferry/sync/delta_apply.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "base/sys.h"
#include "ferry/sync/delta_block_size.h"

namespace ferry::sync {
namespace {

constexpr size_t kCopyBuffer = size_t{1} << 20;

// copy_file_range errors that mean "not here", not "failed".
bool copy_unsupported(int code) {
  return code == EXDEV || code == EINVAL || code == ENOSYS || code == EOPNOTSUPP || code == EBADF;
}

}  // namespace

DeltaApplier::DeltaApplier(int old_fd, uint64_t old_size, uint32_t block_size, int new_fd,
                           uint64_t max_size)
    : old_fd_(old_fd),
      old_size_(old_size),
      block_size_(block_size_acceptable(block_size) ? block_size : 0),
      block_count_(block_size_ == 0 ? 0 : old_size / block_size_ + (old_size % block_size_ != 0)),
      new_fd_(new_fd),
      max_size_(max_size) {}

base::Status DeltaApplier::copy(uint64_t block, uint32_t blocks) {
  if (blocks == 0) return base::fail_msg("delta: copy of zero blocks");
  if (block >= block_count_) {
    return base::fail_msg("delta: copy names block " + std::to_string(block) +
                          " but the old file has " + std::to_string(block_count_));
  }
  if (blocks > block_count_ - block) {
    return base::fail_msg("delta: copy of " + std::to_string(blocks) + " blocks from block " +
                          std::to_string(block) + " runs past the old file's " +
                          std::to_string(block_count_));
  }
  // block + blocks <= block_count_, so these cannot overflow: at most old_size_.
  uint64_t offset = block * block_size_;
  uint64_t end = std::min(old_size_, (block + blocks) * block_size_);
  uint64_t len = end - offset;
  if (len > max_size_ - written_) {
    return base::fail_msg("delta: copy would make the new file " + std::to_string(written_ + len) +
                          " bytes, over its limit of " + std::to_string(max_size_));
  }
  return copy_bytes(offset, len);
}

base::Status DeltaApplier::literal(std::span<const uint8_t> bytes) {
  if (bytes.size() > max_size_ - written_) {
    return base::fail_msg("delta: literal would make the new file " +
                          std::to_string(written_ + bytes.size()) + " bytes, over its limit of " +
                          std::to_string(max_size_));
  }
  TRY_STATUS(base::sys::pwrite_all(new_fd_, bytes.data(), bytes.size(),
                                   static_cast<off_t>(written_), "new file"));
  written_ += bytes.size();
  return {};
}

base::Status DeltaApplier::copy_bytes(uint64_t offset, uint64_t len) {
  while (len > 0 && use_copy_file_range_) {
    auto in = static_cast<off_t>(offset);
    auto out = static_cast<off_t>(written_);
    auto n = base::sys::copy_file_range(old_fd_, &in, new_fd_, &out,
                                        static_cast<size_t>(std::min<uint64_t>(len, 1u << 30)),
                                        "old file to new file");
    if (!n) {
      if (!copy_unsupported(n.error().code())) return base::fail(std::move(n).error());
      use_copy_file_range_ = false;
      break;
    }
    if (*n == 0) {
      return base::fail_msg("delta: old file ended at " + std::to_string(offset) +
                            " bytes, expected " + std::to_string(old_size_));
    }
    offset += *n;
    len -= *n;
    written_ += *n;
  }
  return copy_by_reading(offset, len);
}

base::Status DeltaApplier::copy_by_reading(uint64_t offset, uint64_t len) {
  if (len > 0 && buf_.empty()) buf_.resize(kCopyBuffer);
  while (len > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(len, buf_.size()));
    size_t n =
        TRY(base::sys::pread(old_fd_, buf_.data(), want, static_cast<off_t>(offset), "old file"));
    if (n == 0) {
      return base::fail_msg("delta: old file ended at " + std::to_string(offset) +
                            " bytes, expected " + std::to_string(old_size_));
    }
    TRY_STATUS(
        base::sys::pwrite_all(new_fd_, buf_.data(), n, static_cast<off_t>(written_), "new file"));
    offset += n;
    len -= n;
    written_ += n;
  }
  return {};
}

}  // namespace ferry::sync
