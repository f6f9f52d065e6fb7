#include "ferry/sync/delta_signature.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/sys.h"
#include "ferry/sync/delta_block_size.h"

namespace ferry::sync {
namespace {

constexpr size_t kReadBuffer = size_t{1} << 20;

}  // namespace

void RollingSum::reset(std::span<const uint8_t> window) {
  // Sequentially, each byte does a += x; b += a. A chunk of k bytes x[0..k)
  // therefore adds k * a (the a before it) + sum (k - j) * x[j] to b. The
  // fixed-size inner loop has no carried dependency, so it vectorizes.
  constexpr size_t kChunk = 32;
  const uint8_t* p = window.data();
  const size_t n = window.size();
  uint32_t a = 0;
  uint32_t b = 0;
  size_t i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    uint32_t chunk_a = 0;
    uint32_t chunk_b = 0;
    for (size_t j = 0; j < kChunk; ++j) {
      chunk_a += p[i + j];
      chunk_b += static_cast<uint32_t>(kChunk - j) * p[i + j];
    }
    b += static_cast<uint32_t>(kChunk) * a + chunk_b;
    a += chunk_a;
  }
  for (; i < n; ++i) {
    a += p[i];
    b += a;
  }
  a_ = a;
  b_ = b;
  length_ = static_cast<uint32_t>(n);
}

StrongSum strong_sum(std::span<const uint8_t> bytes) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  StrongSum out;
  static_assert(sizeof(canonical.digest) == out.size());
  std::memcpy(out.data(), canonical.digest, out.size());
  return out;
}

BlockSum block_sum(std::span<const uint8_t> block) {
  return BlockSum{RollingSum::of(block), strong_sum(block)};
}

void append_block_sums(std::string& out, std::span<const BlockSum> sums) {
  size_t at = out.size();
  out.resize(at + sums.size() * kBlockSumWireSize);
  for (const BlockSum& s : sums) {
    out[at++] = static_cast<char>(s.weak >> 24);
    out[at++] = static_cast<char>(s.weak >> 16);
    out[at++] = static_cast<char>(s.weak >> 8);
    out[at++] = static_cast<char>(s.weak);
    std::memcpy(&out[at], s.strong.data(), s.strong.size());
    at += s.strong.size();
  }
}

base::Result<std::vector<BlockSum>> parse_block_sums(std::string_view wire) {
  if (wire.size() % kBlockSumWireSize != 0) {
    return base::fail_msg("block sums: length " + std::to_string(wire.size()) +
                          " is not a multiple of " + std::to_string(kBlockSumWireSize));
  }
  std::vector<BlockSum> sums(wire.size() / kBlockSumWireSize);
  const auto* p = reinterpret_cast<const uint8_t*>(wire.data());
  for (BlockSum& s : sums) {
    s.weak = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    std::memcpy(s.strong.data(), p + 4, s.strong.size());
    p += kBlockSumWireSize;
  }
  return sums;
}

SignatureReader::SignatureReader(int fd, uint64_t size, uint32_t block_size)
    : fd_(fd),
      size_(size),
      block_size_(block_size_acceptable(block_size) ? block_size : 0),
      block_count_(block_size_ == 0 ? 0 : size / block_size_ + (size % block_size_ != 0)) {}

base::Status SignatureReader::fill() {
  if (buf_.empty()) {
    size_t blocks = std::max<size_t>(1, kReadBuffer / block_size_);
    buf_.resize(blocks * block_size_);
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), size_ - read_offset_));
  size_t got = 0;
  while (got < want) {
    size_t n = TRY(base::sys::pread(fd_, buf_.data() + got, want - got,
                                    static_cast<off_t>(read_offset_ + got), "old file"));
    if (n == 0) {
      return base::fail_msg("signature: old file ended at " + std::to_string(read_offset_ + got) +
                            " bytes, expected " + std::to_string(size_));
    }
    got += n;
  }
  read_offset_ += got;
  buf_len_ = got;
  buf_pos_ = 0;
  return {};
}

base::Result<size_t> SignatureReader::next(std::vector<BlockSum>& out, size_t max_blocks) {
  out.clear();
  max_blocks = std::max<size_t>(max_blocks, 1);
  while (out.size() < max_blocks && yielded_ < block_count_) {
    if (buf_pos_ == buf_len_) TRY_STATUS(fill());
    size_t len = std::min<size_t>(block_size_, buf_len_ - buf_pos_);
    out.push_back(block_sum({buf_.data() + buf_pos_, len}));
    buf_pos_ += len;
    ++yielded_;
  }
  return out.size();
}

}  // namespace ferry::sync
