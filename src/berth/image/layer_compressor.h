// A layer's tar stream, compressed as it is written: gzip (ISA-L's igzip at
// level 1, several times zlib's speed, a gzip stream every tool reads) or
// zstd (libzstd, level 3). Compressed bytes go to `out` as they are made.
// Errors name the layer (`what`); the first error `out` returns stops the
// stream and is returned by every later call.
// Thread-safety: one writer, on one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/error.h"

namespace berth {

enum class LayerCompression { kGzip, kZstd };

class LayerCompressor {
 public:
  using Sink = std::function<base::Status(const void* data, size_t len)>;
  static base::Result<LayerCompressor> make(LayerCompression kind, Sink out, std::string what);
  LayerCompressor(LayerCompressor&&) noexcept;
  LayerCompressor& operator=(LayerCompressor&&) noexcept;
  ~LayerCompressor();

  base::Status write(const void* data, size_t len);
  // Ends the stream (its trailer goes to `out`); no write after it.
  base::Status finish();
  // The layer media type's suffix: "tar+gzip" or "tar+zstd".
  static const char* media_suffix(LayerCompression kind);

 private:
  struct State;
  explicit LayerCompressor(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace berth
