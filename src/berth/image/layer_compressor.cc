#include "berth/image/layer_compressor.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "berth/image/compression_libraries.h"

namespace berth {
namespace {
constexpr size_t kOutBlock = 1 << 20;
}  // namespace

struct LayerCompressor::State {
  LayerCompression kind;
  Sink out;
  std::string what;
  std::vector<uint8_t> buf = std::vector<uint8_t>(kOutBlock);
  // gzip
  isal_zstream gz{};
  std::vector<uint8_t> level_buf;
  // zstd
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> zs{nullptr, nullptr};
  bool finished = false;

  base::Status emit(size_t n) {
    if (n == 0) return {};
    return out(buf.data(), n);
  }

  base::Status gzip(const void* data, size_t len, bool end) {
    gz.next_in = static_cast<uint8_t*>(const_cast<void*>(data));
    gz.avail_in = static_cast<uint32_t>(len);
    gz.end_of_stream = end ? 1 : 0;
    do {
      gz.next_out = buf.data();
      gz.avail_out = static_cast<uint32_t>(buf.size());
      if (isal().isal_deflate(&gz) != COMP_OK)
        return base::fail_msg(fmt::format("{}: gzip compression failed", what));
      TRY_STATUS(emit(buf.size() - gz.avail_out));
    } while (gz.avail_in > 0 || (end && gz.internal_state.state != ZSTATE_END));
    return {};
  }

  base::Status zstd_step(const void* data, size_t len, bool end) {
    ZSTD_inBuffer in{data, len, 0};
    for (;;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      size_t left =
          zstd().ZSTD_compressStream2(zs.get(), &o, &in, end ? ZSTD_e_end : ZSTD_e_continue);
      if (zstd().ZSTD_isError(left))
        return base::fail_msg(
            fmt::format("{}: zstd compression: {}", what, zstd().ZSTD_getErrorName(left)));
      TRY_STATUS(emit(o.pos));
      if (end ? left == 0 : in.pos == in.size) return {};
    }
  }
};

base::Result<LayerCompressor> LayerCompressor::make(LayerCompression kind, Sink out,
                                                    std::string what) {
  auto s = std::make_unique<State>();
  s->kind = kind;
  s->out = std::move(out);
  s->what = std::move(what);
  if (kind == LayerCompression::kGzip) {
    if (!isal().error.empty()) return base::fail_msg(isal().error);
    isal().isal_deflate_init(&s->gz);
    s->gz.gzip_flag = IGZIP_GZIP;
    s->gz.level = 1;
    s->level_buf.resize(ISAL_DEF_LVL1_DEFAULT);
    s->gz.level_buf = s->level_buf.data();
    s->gz.level_buf_size = static_cast<uint32_t>(s->level_buf.size());
  } else {
    if (!zstd().error.empty()) return base::fail_msg(zstd().error);
    s->zs = {zstd().ZSTD_createCCtx(), zstd().ZSTD_freeCCtx};
    if (!s->zs) return base::fail_msg(fmt::format("{}: out of memory for zstd", s->what));
    (void)zstd().ZSTD_CCtx_setParameter(s->zs.get(), ZSTD_c_compressionLevel, 3);
  }
  return LayerCompressor(std::move(s));
}

LayerCompressor::LayerCompressor(std::unique_ptr<State> s) : s_(std::move(s)) {}
LayerCompressor::LayerCompressor(LayerCompressor&&) noexcept = default;
LayerCompressor& LayerCompressor::operator=(LayerCompressor&&) noexcept = default;
LayerCompressor::~LayerCompressor() = default;

base::Status LayerCompressor::write(const void* data, size_t len) {
  if (s_->finished) return base::fail_msg(fmt::format("{}: written after its end", s_->what));
  // isal takes at most 4 GiB - 1 per call.
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    size_t n = std::min<size_t>(len, 1u << 30);
    TRY_STATUS(s_->kind == LayerCompression::kGzip ? s_->gzip(p, n, false)
                                                   : s_->zstd_step(p, n, false));
    p += n;
    len -= n;
  }
  return {};
}

base::Status LayerCompressor::finish() {
  if (s_->finished) return {};
  s_->finished = true;
  return s_->kind == LayerCompression::kGzip ? s_->gzip(nullptr, 0, true)
                                             : s_->zstd_step(nullptr, 0, true);
}

const char* LayerCompressor::media_suffix(LayerCompression kind) {
  return kind == LayerCompression::kGzip ? "tar+gzip" : "tar+zstd";
}

}  // namespace berth
