// zstd for data chunks with -z: one context each way, reused. A chunk that
// does not shrink is sent as it is (compress() says so), so incompressible
// data costs the sender one attempt and the wire nothing more. The other
// side's chunks are hostile input: decompress() insists on exactly the
// length announced, at most kChunkSize, and never writes past it.
// Thread-safety: one thread per object.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <zstd.h>

#include "base/error.h"

namespace ferry {

class ChunkCompressor {
 public:
  ChunkCompressor();
  // The compressed bytes (valid until the next call), or nullopt when they
  // would not be smaller than `raw`.
  base::Result<std::optional<std::span<const uint8_t>>> compress(std::span<const uint8_t> raw);

 private:
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  std::unique_ptr<ZSTD_CCtx, Free> ctx_;
  std::vector<uint8_t> out_;
};

class ChunkDecompressor {
 public:
  ChunkDecompressor();
  // Exactly `raw_len` bytes (valid until the next call), or an error.
  base::Result<std::span<const uint8_t>> decompress(std::span<const uint8_t> packed,
                                                    uint32_t raw_len);

 private:
  struct Free {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_DCtx, Free> ctx_;
  std::vector<uint8_t> out_;
};

}  // namespace ferry
