// The old file's signature for rsync's delta algorithm: per block of
// `block_size` bytes (the last one may be short), a weak rolling sum and a
// strong hash.
//
// RollingSum is Tridgell's a/b checksum over a window of fixed length n:
//   a = sum of x[i],  b = sum of (n - i) * x[i],  value = (a mod 2^16) | (b mod 2^16) << 16
// and roll() slides the window one byte in O(1). The bytes are unsigned.
// The strong hash is XXH3-128 of the block, in its canonical (big-endian) form.
//
// SignatureReader reads an old file of a known size front to back and yields
// its BlockSums in order, in batches; it fails if the file ends early.
//
// Wire form of a BlockSum: 20 bytes, the weak sum as a big-endian u32, then
// the 16 strong bytes.
// Thread-safety: RollingSum and BlockSum are plain values; a SignatureReader
// is used by one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace ferry::sync {

class RollingSum {
 public:
  RollingSum() = default;
  // The sum of `window`; its length is the length kept by roll().
  explicit RollingSum(std::span<const uint8_t> window) { reset(window); }
  void reset(std::span<const uint8_t> window);
  // Slides the window one byte: `out` (its first byte) leaves, `in` enters.
  void roll(uint8_t out, uint8_t in) {
    a_ += in - static_cast<uint32_t>(out);
    b_ += a_ - length_ * out;
  }
  uint32_t value() const { return (a_ & 0xffffu) | (b_ << 16); }
  uint32_t length() const { return length_; }
  // The value of a sum over `bytes` in one go.
  static uint32_t of(std::span<const uint8_t> bytes) { return RollingSum(bytes).value(); }

 private:
  uint32_t a_ = 0;  // both kept modulo 2^32; only the low 16 bits count
  uint32_t b_ = 0;
  uint32_t length_ = 0;
};

using StrongSum = std::array<uint8_t, 16>;

// XXH3-128 of `bytes`, canonical (big-endian) byte order.
StrongSum strong_sum(std::span<const uint8_t> bytes);

struct BlockSum {
  uint32_t weak = 0;
  StrongSum strong{};
  bool operator==(const BlockSum&) const = default;
};

BlockSum block_sum(std::span<const uint8_t> block);

inline constexpr size_t kBlockSumWireSize = 20;

// Appends 20 bytes per sum: weak (u32 big-endian), then the strong bytes.
void append_block_sums(std::string& out, std::span<const BlockSum> sums);
// The sums in `wire`; fails when its length is not a multiple of 20.
base::Result<std::vector<BlockSum>> parse_block_sums(std::string_view wire);

class SignatureReader {
 public:
  // Reads `size` bytes of `fd` (not owned; it must outlive the reader) from
  // offset 0 with pread, in blocks of `block_size` (1..kMaxBlockSize).
  SignatureReader(int fd, uint64_t size, uint32_t block_size);

  // Replaces `out` with the next sums, at most `max_blocks` (>= 1) of them:
  // how many, 0 once every block has been yielded. Fails when a read fails
  // or the file is shorter than `size`.
  base::Result<size_t> next(std::vector<BlockSum>& out, size_t max_blocks);

  uint64_t block_count() const { return block_count_; }
  uint64_t blocks_yielded() const { return yielded_; }

 private:
  base::Status fill();

  int fd_;
  uint64_t size_;
  uint32_t block_size_;
  uint64_t block_count_;
  uint64_t yielded_ = 0;
  uint64_t read_offset_ = 0;  // bytes of the file read into buf_ so far
  std::vector<uint8_t> buf_;  // a whole number of blocks (the last may be short)
  size_t buf_len_ = 0;        // valid bytes in buf_
  size_t buf_pos_ = 0;        // next block starts here
};

}  // namespace ferry::sync
