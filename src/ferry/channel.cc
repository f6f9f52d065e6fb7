#include "ferry/channel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <zstd.h>

#include "ferry/codec.h"

namespace ferry {
namespace {
// Each read(2) asks for the rest of the frame being assembled and a little
// more (the next frames' headers, small messages), never megabytes ahead:
// a DATA frame is then verified while its bytes are still in this core's
// cache, and what is left to move down when the buffer wraps is small.
constexpr size_t kReadAhead = 64u << 10;
// Room for the largest DATA frame and the read-ahead; a larger frame (a
// WANT of a huge resumed file may reach 16 MiB) grows it.
constexpr size_t kInBuffer = (2u << 20) + kReadAhead;
constexpr size_t kOutFlushAt = 2u << 20;
}  // namespace

// Frames packed together once this many bytes are waiting.
constexpr size_t kPackAt = 64u << 10;

// The packing state of both directions; its zstd contexts are its own.
struct Channel::Packer {
  struct FreeC {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  struct FreeD {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_CCtx, FreeC> cctx{ZSTD_createCCtx()};
  std::unique_ptr<ZSTD_DCtx, FreeD> dctx{ZSTD_createDCtx()};
  std::string pending;            // whole frames waiting to be packed
  std::vector<uint8_t> packed;    // compressed output, reused
  std::vector<uint8_t> unpacked;  // the frames of the last PACKED received
  size_t unpacked_len = 0;
  size_t unpacked_pos = 0;
};

Channel::Channel(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)), in_(kInBuffer) {
  reserve_out(kOutFlushAt + kFrameHeaderSize + kDataPrefixSize + kChunkSize);
}

Channel::~Channel() = default;

base::Status Channel::start_packing() {
  auto p = std::make_unique<Packer>();
  if (!p->cctx || !p->dctx) return base::fail_msg("out of memory for zstd");
  // Level 3 gives file lists most of what higher levels would, at a cost a
  // list of 20,000 entries does not notice; the window bounds a peer's memory.
  if (ZSTD_isError(ZSTD_CCtx_setParameter(p->cctx.get(), ZSTD_c_compressionLevel, 3)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(p->cctx.get(), ZSTD_c_windowLog, 20)) ||
      ZSTD_isError(ZSTD_DCtx_setParameter(p->dctx.get(), ZSTD_d_windowLogMax, 20)))
    return base::fail_msg("zstd refused its parameters");
  p->unpacked.resize(kMaxUnpacked);
  p->packed.resize(ZSTD_compressBound(kPackAt + (64u << 10) + kFrameHeaderSize));
  packer_ = std::move(p);
  return {};
}

bool Channel::packable(FrameType type, size_t len) const {
  if (!packer_ || len >= (64u << 10)) return false;
  return type == FrameType::kEntry || type == FrameType::kWant || type == FrameType::kSum ||
         type == FrameType::kItem || type == FrameType::kFileEnd || type == FrameType::kXattrs;
}

base::Status Channel::pack_out() {
  if (!packer_ || packer_->pending.empty()) return {};
  std::string raw;
  raw.swap(packer_->pending);
  ZSTD_inBuffer in{raw.data(), raw.size(), 0};
  ZSTD_outBuffer out{packer_->packed.data(), packer_->packed.size(), 0};
  size_t left;
  do {
    left = ZSTD_compressStream2(packer_->cctx.get(), &out, &in, ZSTD_e_flush);
    if (ZSTD_isError(left)) return base::fail_msg(fmt::format("zstd: {}", ZSTD_getErrorName(left)));
    if (left != 0 && out.pos == out.size) return base::fail_msg("zstd: packed frame overflow");
  } while (left != 0);
  uint8_t* p = TRY(begin_frame(FrameType::kPacked, out.pos));
  std::memcpy(p, packer_->packed.data(), out.pos);
  return {};
}

base::Status Channel::unpack(std::span<const uint8_t> payload) {
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ZSTD_outBuffer out{packer_->unpacked.data(), packer_->unpacked.size(), 0};
  while (in.pos < in.size) {
    size_t r = ZSTD_decompressStream(packer_->dctx.get(), &out, &in);
    if (ZSTD_isError(r))
      return base::fail_msg(fmt::format("{} sent a PACKED message zstd cannot read: {}", peer(),
                                        ZSTD_getErrorName(r)));
    if (out.pos == out.size && in.pos < in.size)
      return base::fail_msg(
          fmt::format("{} sent a PACKED message of over {} bytes unpacked", peer(), kMaxUnpacked));
  }
  packer_->unpacked_len = out.pos;
  packer_->unpacked_pos = 0;
  return {};
}

base::Result<Frame> Channel::next_unpacked() {
  Packer& p = *packer_;
  size_t have = p.unpacked_len - p.unpacked_pos;
  const uint8_t* h = p.unpacked.data() + p.unpacked_pos;
  if (have < kFrameHeaderSize)
    return base::fail_msg(fmt::format("{} sent a PACKED message with a frame cut short", peer()));
  uint8_t type = h[0];
  uint32_t len = load_be32(h + 4);
  auto t = static_cast<FrameType>(type);
  if (!packable(t, len) || h[1] != 0 || h[2] != 0 || h[3] != 0 || len > max_payload(type))
    return base::fail_msg(
        fmt::format("{} packed a frame that may not be packed (type 0x{:02x})", peer(), type));
  if (len > have - kFrameHeaderSize)
    return base::fail_msg(fmt::format("{} sent a PACKED message with a frame cut short", peer()));
  p.unpacked_pos += kFrameHeaderSize + len;
  return Frame{t, {h + kFrameHeaderSize, len}};
}

base::Status Channel::fill(size_t need) {
  // recv() has checked a frame's size against its type's cap: grow to fit.
  if (need + kReadAhead > in_.size()) in_.resize(need + kReadAhead);
  while (in_end_ - in_begin_ < need) {
    size_t have = in_end_ - in_begin_;
    if (have == 0) {
      in_begin_ = in_end_ = 0;  // empty: start again at the front, for free
      // A huge frame (a WANT of a large resumed file) grew the buffer: its
      // memory goes back once it is consumed.
      if (in_.size() > kInBuffer && need + kReadAhead <= kInBuffer) {
        in_ = std::vector<uint8_t>(kInBuffer);
      }
    } else if (in_begin_ + need + kReadAhead > in_.size()) {
      std::memmove(in_.data(), in_.data() + in_begin_, have);
      in_end_ = have;
      in_begin_ = 0;
    }
    size_t n;
    {
      StageTimer t(times_, Stage::kSocketRecv);
      size_t want = std::min(in_.size() - in_end_, need - have + kReadAhead);
      if (limit_) want = std::min(want, limit_->slice());
      transport_->expect(need - have);
      n = TRY(transport_->read_some(in_.data() + in_end_, want));
      if (limit_) limit_->pace(n);  // the next read waits for this one's turn
    }
    if (n == 0) {
      if (in_end_ == in_begin_)
        return base::fail(
            base::Error::coded(ECONNRESET, fmt::format("connection closed by {}", peer())));
      return base::fail(base::Error::coded(
          ECONNRESET, fmt::format("connection closed by {} in the middle of a message", peer())));
    }
    in_end_ += n;
    buffered_in_.store(in_end_ - in_begin_, std::memory_order_relaxed);
  }
  return {};
}

bool Channel::frame_buffered() const {
  if (packer_ && packer_->unpacked_pos < packer_->unpacked_len) return true;
  size_t have = in_end_ - in_begin_;
  if (have < kFrameHeaderSize) return false;
  return have >= kFrameHeaderSize + load_be32(in_.data() + in_begin_ + 4);
}

base::Result<Frame> Channel::recv() {
  for (;;) {
    if (packer_ && packer_->unpacked_pos < packer_->unpacked_len) return next_unpacked();
    Frame f = TRY(recv_raw());
    if (f.type != FrameType::kPacked) return f;
    if (!packer_) return base::fail_msg(fmt::format("{} sent PACKED outside a sync", peer()));
    TRY_STATUS(unpack(f.payload));
  }
}

base::Result<Frame> Channel::recv_raw() {
  TRY_STATUS(fill(kFrameHeaderSize));
  const uint8_t* h = in_.data() + in_begin_;
  uint8_t type = h[0];
  uint32_t len = load_be32(h + 4);
  uint32_t cap = max_payload(type);
  bool known = cap > 0 || type == static_cast<uint8_t>(FrameType::kDone);
  if (!known || h[1] != 0 || h[2] != 0 || h[3] != 0)
    return base::fail_msg(
        fmt::format("{} sent something that is not a ferry message (frame type 0x{:02x}); "
                    "is it a ferry server?",
                    peer(), type));
  if (len > cap)
    return base::fail_msg(fmt::format("{} sent a {} message of {} bytes, over the limit of {}",
                                      peer(), frame_name(static_cast<FrameType>(type)), len, cap));
  TRY_STATUS(fill(kFrameHeaderSize + len));
  Frame f{static_cast<FrameType>(type), {in_.data() + in_begin_ + kFrameHeaderSize, len}};
  in_begin_ += kFrameHeaderSize + len;
  buffered_in_.store(in_end_ - in_begin_, std::memory_order_relaxed);
  return f;
}

base::Status Channel::flush_if_large(size_t incoming) {
  if (out_len_ + incoming > kOutFlushAt && out_len_ > 0) return flush();
  return {};
}

base::Status Channel::send(FrameType type, std::string_view payload) {
  if (packable(type, payload.size())) {
    std::string& q = packer_->pending;
    size_t at = q.size();
    q.resize(at + kFrameHeaderSize);
    encode_frame_header(reinterpret_cast<uint8_t*>(q.data() + at), type,
                        static_cast<uint32_t>(payload.size()));
    q.append(payload);
    if (q.size() >= kPackAt) return pack_out();
    return {};
  }
  TRY_STATUS(pack_out());  // what was packed goes first: order is kept
  TRY(begin_frame(type, payload.size()));
  std::memcpy(out_.get() + out_len_ - payload.size(), payload.data(), payload.size());
  return {};
}

base::Result<uint8_t*> Channel::begin_frame(FrameType type, size_t payload_len) {
  if (type != FrameType::kPacked) TRY_STATUS(pack_out());
  TRY_STATUS(flush_if_large(kFrameHeaderSize + payload_len));
  reserve_out(out_len_ + kFrameHeaderSize + payload_len);
  last_frame_header_ = out_len_;
  set_out_len(out_len_ + kFrameHeaderSize + payload_len);
  uint8_t* h = out_.get() + last_frame_header_;
  encode_frame_header(h, type, static_cast<uint32_t>(payload_len));
  return h + kFrameHeaderSize;
}

void Channel::shrink_last_frame(size_t unused) {
  uint8_t* h = out_.get() + last_frame_header_;
  store_be32(h + 4, load_be32(h + 4) - static_cast<uint32_t>(unused));
  set_out_len(out_len_ - unused);
}

base::Status Channel::flush() {
  TRY_STATUS(pack_out());
  if (out_len_ == 0) return {};
  {
    StageTimer t(times_, Stage::kSocketSend);
    TRY_STATUS(write_out(out_.get(), out_len_));
  }
  set_out_len(0);
  return {};
}

base::Status Channel::write_frames(const uint8_t* frames, size_t len) {
  TRY_STATUS(flush());
  StageTimer t(times_, Stage::kSocketSend);
  return write_out(frames, len);
}

base::Status Channel::write_out(const uint8_t* bytes, size_t len) {
  if (!limit_) return transport_->write_all(bytes, len);
  for (size_t done = 0; done < len;) {
    size_t n = std::min(len - done, limit_->slice());
    limit_->pace(n);
    TRY_STATUS(transport_->write_all(bytes + done, n));
    done += n;
  }
  return {};
}

void Channel::reserve_out(size_t total) {
  if (total <= out_cap_) return;
  // Rare: only frames larger than a data chunk (big WANTs) grow it.
  size_t cap = std::max(total, out_cap_ * 2);
  std::unique_ptr<uint8_t[]> bigger(new uint8_t[cap]);
  if (out_len_ > 0) std::memcpy(bigger.get(), out_.get(), out_len_);
  out_ = std::move(bigger);
  out_cap_ = cap;
}

std::vector<Channel*> pointers(const std::vector<std::unique_ptr<Channel>>& channels) {
  std::vector<Channel*> out;
  out.reserve(channels.size());
  for (const auto& c : channels) out.push_back(c.get());
  return out;
}

}  // namespace ferry
