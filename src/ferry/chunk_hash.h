// chunk_hash: the XXH3-64 of a DATA chunk (docs/PROTOCOL.md), the same value
// on every machine. On x86-64 it goes through libxxhash's runtime dispatch,
// which picks the widest vector unit the CPU has (AVX2 or AVX-512); the
// plain entry point of Debian's build is SSE2 only and cost a receiver
// about 30% of its CPU on loopback.
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#endif

namespace ferry {

inline uint64_t chunk_hash(const void* data, size_t len) {
#if defined(__x86_64__)
  return XXH3_64bits_dispatch(data, len);
#else
  return XXH3_64bits(data, len);
#endif
}

}  // namespace ferry
