#include "berth/image/layer_decompressor.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "base/sys.h"
#include "berth/image/compression_libraries.h"

namespace berth {
namespace {

constexpr size_t kBlock = 1 << 20;

// The input side: a buffer refilled from the fd.
struct Input {
  int fd;
  const std::string& what;
  std::vector<uint8_t> buf = std::vector<uint8_t>(kBlock);
  size_t pos = 0, len = 0;
  bool eof = false;

  size_t available() const { return len - pos; }
  // Reads more when the buffer is used up; false at the end of the stream.
  base::Result<bool> refill() {
    if (available() > 0) return true;
    if (eof) return false;
    size_t n = TRY(base::sys::read(fd, buf.data(), buf.size(), what));
    pos = 0;
    len = n;
    eof = n == 0;
    return n > 0;
  }
  // Fills the buffer with at least `want` bytes, or to the end of the stream.
  base::Status peek(size_t want) {
    while (len < want && !eof) {
      size_t n = TRY(base::sys::read(fd, buf.data() + len, buf.size() - len, what));
      eof = n == 0;
      len += n;
    }
    return {};
  }
};

const char* isal_error(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC mismatch";
    default:
      return "corrupt data";
  }
}

base::Status gunzip(Input& in, const DecompressedSink& out) {
  if (!isal().error.empty()) return base::fail_msg(isal().error);
  auto state = std::make_unique<inflate_state>();  // ~40 KB: not on the stack
  isal().isal_inflate_init(state.get());
  state->crc_flag = ISAL_GZIP;
  std::vector<uint8_t> buf(kBlock);
  bool member_done = false;
  for (;;) {
    if (member_done) {  // another member, zero padding, or the end
      if (!TRY(in.refill())) return {};
      const uint8_t* next = in.buf.data() + in.pos;
      if (next[0] != 0x1f || (in.available() > 1 && next[1] != 0x8b)) {
        auto nonzero = std::find_if(in.buf.begin() + static_cast<ptrdiff_t>(in.pos),
                                    in.buf.begin() + static_cast<ptrdiff_t>(in.len),
                                    [](uint8_t b) { return b != 0; });
        if (nonzero != in.buf.begin() + static_cast<ptrdiff_t>(in.len))
          return base::fail_msg(fmt::format("{}: data after the end of the gzip stream", in.what));
        in.pos = in.len;
        continue;
      }
      isal().isal_inflate_reset(state.get());
      state->crc_flag = ISAL_GZIP;
    }
    bool more = TRY(in.refill());
    state->next_in = in.buf.data() + in.pos;
    state->avail_in = static_cast<uint32_t>(in.available());
    state->next_out = buf.data();
    state->avail_out = static_cast<uint32_t>(buf.size());
    int rc = isal().isal_inflate(state.get());
    in.pos = in.len - state->avail_in;
    if (rc < 0) return base::fail_msg(fmt::format("{}: gzip: {}", in.what, isal_error(rc)));
    size_t produced = buf.size() - state->avail_out;
    if (produced > 0) TRY_STATUS(out(reinterpret_cast<const char*>(buf.data()), produced));
    member_done = state->block_state == ISAL_BLOCK_FINISH;
    if (!member_done && !more && produced == 0)
      return base::fail_msg(fmt::format("{}: gzip: the stream is truncated", in.what));
  }
}

base::Status unzstd(Input& in, const DecompressedSink& out) {
  if (!zstd().error.empty()) return base::fail_msg(zstd().error);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(zstd().ZSTD_createDCtx(),
                                                         zstd().ZSTD_freeDCtx);
  if (!ctx) return base::fail_msg("zstd: out of memory");
  std::vector<uint8_t> buf(kBlock);
  bool frame_done = false;  // the last frame is complete and flushed
  for (;;) {
    bool more = TRY(in.refill());
    if (!more && frame_done) return {};
    ZSTD_inBuffer src{in.buf.data() + in.pos, in.available(), 0};
    ZSTD_outBuffer dst{buf.data(), buf.size(), 0};
    size_t rc = zstd().ZSTD_decompressStream(ctx.get(), &dst, &src);
    in.pos += src.pos;
    if (zstd().ZSTD_isError(rc))
      return base::fail_msg(fmt::format("{}: zstd: {}", in.what, zstd().ZSTD_getErrorName(rc)));
    if (src.pos > 0 || dst.pos > 0) frame_done = rc == 0;
    if (dst.pos > 0) TRY_STATUS(out(reinterpret_cast<const char*>(buf.data()), dst.pos));
    if (!more && dst.pos == 0)
      return base::fail_msg(fmt::format("{}: zstd: the stream is truncated", in.what));
  }
}

base::Status pass_through(Input& in, const DecompressedSink& out) {
  while (TRY(in.refill())) {
    TRY_STATUS(out(reinterpret_cast<const char*>(in.buf.data() + in.pos), in.available()));
    in.pos = in.len;
  }
  return {};
}

}  // namespace

base::Status decompress_stream(int in_fd, const DecompressedSink& out, const std::string& what) {
  Input in{in_fd, what};
  TRY_STATUS(in.peek(4));
  const uint8_t* b = in.buf.data();
  if (in.len >= 2 && b[0] == 0x1f && b[1] == 0x8b) return gunzip(in, out);
  if (in.len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return unzstd(in, out);
  return pass_through(in, out);
}

}  // namespace berth
