// block_size_for — the block length rsync's delta algorithm uses for an old
// file of a given size: about the square root of the size, a multiple of 8,
// never below kMinBlockSize nor above kMaxBlockSize. The receiver picks it (it
// holds the old file) and tells the sender; both then cut the old file into
// blocks of that length, the last one possibly short.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace ferry::sync {

inline constexpr uint32_t kMinBlockSize = 700;
inline constexpr uint32_t kMaxBlockSize = 131072;

// The block length for an old file of `file_size` bytes, in
// [kMinBlockSize, kMaxBlockSize] and a multiple of 8 above the minimum.
uint32_t block_size_for(uint64_t file_size);

// True when a peer's block length is one these parts accept: 1..kMaxBlockSize.
// A matcher or applier given any other length treats the old file as having
// no usable blocks.
constexpr bool block_size_acceptable(uint32_t block_size) {
  return block_size >= 1 && block_size <= kMaxBlockSize;
}

}  // namespace ferry::sync
