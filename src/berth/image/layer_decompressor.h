// A layer's compressed stream, decompressed as it arrives. The kind is told
// by the first bytes, whatever the media type claims: gzip (ISA-L's igzip,
// about twice zlib's speed; several members in a row are one stream), zstd
// (libzstd; several frames likewise), or an uncompressed tar, passed through.
// Both libraries are loaded on first use (base/lazy_library.h).
// Errors name the stream (`what`): a corrupt or truncated gzip/zstd stream,
// data after a gzip stream's end (zero padding is allowed), a read error, or
// the first error `out` returned, which stops decompression at once.
// Thread-safety: none needed; each call owns its state.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "base/error.h"

namespace berth {

using DecompressedSink = std::function<base::Status(const char* data, size_t len)>;

// Reads `in_fd` to its end and hands every decompressed block to `out`.
base::Status decompress_stream(int in_fd, const DecompressedSink& out, const std::string& what);

}  // namespace berth
