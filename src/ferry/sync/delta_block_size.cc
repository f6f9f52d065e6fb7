#include "ferry/sync/delta_block_size.h"

namespace ferry::sync {
namespace {

// floor(sqrt(n)), exact for every 64-bit n (Newton's method on integers).
uint64_t isqrt(uint64_t n) {
  if (n < 2) return n;
  uint64_t x = n;
  uint64_t y = x / 2 + (x & 1);  // ceil(n / 2) without overflow
  while (y < x) {
    x = y;
    y = (x + n / x) / 2;
  }
  return x;
}

}  // namespace

uint32_t block_size_for(uint64_t file_size) {
  uint64_t root = isqrt(file_size) & ~uint64_t{7};  // largest multiple of 8 whose square fits
  if (root < kMinBlockSize) return kMinBlockSize;
  if (root > kMaxBlockSize) return kMaxBlockSize;
  return static_cast<uint32_t>(root);
}

}  // namespace ferry::sync
