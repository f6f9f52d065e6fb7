#include "ferry/chunk_codec.h"

#include <fmt/format.h>

#include "ferry/frame.h"

namespace ferry {
namespace {
// Level 1: about 0.5 GB/s a core here, most of what higher levels save on
// text and logs; -z is for links slower than that.
constexpr int kLevel = 1;
}  // namespace

ChunkCompressor::ChunkCompressor() : ctx_(ZSTD_createCCtx()) {}

base::Result<std::optional<std::span<const uint8_t>>> ChunkCompressor::compress(
    std::span<const uint8_t> raw) {
  if (!ctx_) return base::fail_msg("out of memory for zstd");
  out_.resize(ZSTD_compressBound(raw.size()));
  size_t n =
      ZSTD_compressCCtx(ctx_.get(), out_.data(), out_.size(), raw.data(), raw.size(), kLevel);
  if (ZSTD_isError(n)) return base::fail_msg(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  if (n >= raw.size()) return std::optional<std::span<const uint8_t>>();
  return std::optional<std::span<const uint8_t>>(std::span<const uint8_t>(out_.data(), n));
}

ChunkDecompressor::ChunkDecompressor() : ctx_(ZSTD_createDCtx()), out_(kChunkSize) {}

base::Result<std::span<const uint8_t>> ChunkDecompressor::decompress(
    std::span<const uint8_t> packed, uint32_t raw_len) {
  if (!ctx_) return base::fail_msg("out of memory for zstd");
  if (raw_len == 0 || raw_len > kChunkSize)
    return base::fail_msg(fmt::format("a compressed chunk of {} bytes announced", raw_len));
  size_t n = ZSTD_decompressDCtx(ctx_.get(), out_.data(), raw_len, packed.data(), packed.size());
  if (ZSTD_isError(n) || n != raw_len)
    return base::fail_msg(
        fmt::format("a compressed chunk does not unpack to the {} bytes announced", raw_len));
  return std::span<const uint8_t>(out_.data(), n);
}

}  // namespace ferry
