// Channel: framed, buffered messaging over a Transport.
//
// Receiving: recv() returns the next whole frame; its payload stays valid
// until the next recv(). Frames are read in large batches, so many small
// frames cost one read(2). Unknown types and payloads over the type's cap
// are errors (the peer is untrusted).
// Sending: frames are appended to an output buffer and written in large
// batches by flush() (or automatically once the buffer is large).
// DATA payloads can be produced in place with begin_frame(), avoiding a copy.
// Packing (a sync's primary stream, both sides): small control frames
// (ENTRY, WANT, SUM, ITEM, FILE_END, XATTRS under 64 KiB) are gathered and sent as
// PACKED frames, compressed with one zstd stream per direction, so a file
// list costs a few bytes a file; recv() hands out the frames inside one by
// one, checked like any other (types, caps; no PACKED inside PACKED), and
// refuses one that unpacks to more than kMaxUnpacked bytes.
//
// Thread-safety: one thread may receive while another sends; neither side
// may be used by two threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "ferry/frame.h"
#include "ferry/rate_limit.h"
#include "ferry/stage_times.h"
#include "ferry/transport.h"

namespace ferry {

struct Frame {
  FrameType type;
  std::span<const uint8_t> payload;
};

class Channel {
 public:
  explicit Channel(std::unique_ptr<Transport> transport);
  ~Channel();

  Transport& transport() { return *transport_; }
  // Where to account time blocked in the socket (nullptr: nowhere).
  void set_stage_times(StageTimes* times) { times_ = times; }
  // --bwlimit: reads and writes from now on wait their turn (shared by all of
  // a transfer's streams); the wait counts as time blocked in the socket.
  void set_rate_limit(std::shared_ptr<RateLimit> limit) { limit_ = std::move(limit); }
  const std::string& peer() const { return transport_->peer(); }

  base::Result<Frame> recv();
  // True when a whole frame is already buffered (recv() will not block).
  bool frame_buffered() const;
  // Bytes read from the socket that recv() has not yet handed out: the
  // backlog in the program's own buffer. Any thread (a relaxed snapshot).
  size_t buffered_in() const { return buffered_in_.load(std::memory_order_relaxed); }

  // Queues one frame.
  base::Status send(FrameType type, std::string_view payload);
  // Queues a frame header and returns where its `payload_len` bytes go; the
  // caller fills them before the next call on the sending side.
  base::Result<uint8_t*> begin_frame(FrameType type, size_t payload_len);
  // Drops the last `unused` bytes of the frame begun last (a short read).
  void shrink_last_frame(size_t unused);
  // Removes the frame begun last entirely.
  void cancel_last_frame() { set_out_len(last_frame_header_); }
  base::Status flush();
  // From now on, in both directions (after a sync's ACCEPT).
  base::Status start_packing();
  // Writes whole frames built elsewhere (encode_frame_header), after
  // anything queued: for a stream written by a StreamWriter.
  base::Status write_frames(const uint8_t* frames, size_t len);
  // Bytes queued by send() and not yet written to the socket. Any thread
  // (a relaxed snapshot).
  size_t buffered_out() const { return buffered_out_.load(std::memory_order_relaxed); }

 private:
  base::Status fill(size_t need);
  base::Result<Frame> recv_raw();
  base::Status flush_if_large(size_t incoming);
  // Writes to the transport, slice by slice under a rate limit.
  base::Status write_out(const uint8_t* bytes, size_t len);
  std::shared_ptr<RateLimit> limit_;
  // Packing (see above).
  struct Packer;
  bool packable(FrameType type, size_t len) const;
  base::Status pack_out();
  base::Status unpack(std::span<const uint8_t> payload);
  base::Result<Frame> next_unpacked();
  std::unique_ptr<Packer> packer_;

  std::unique_ptr<Transport> transport_;
  StageTimes* times_ = nullptr;
  std::vector<uint8_t> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::atomic<size_t> buffered_in_{0};  // in_end_ - in_begin_, for other threads
  // Not a std::string: growing one zero-fills the bytes that pread() is about
  // to overwrite, a memset of everything sent.
  void reserve_out(size_t total);
  std::unique_ptr<uint8_t[]> out_;
  size_t out_len_ = 0;
  std::atomic<size_t> buffered_out_{0};  // out_len_, for other threads
  void set_out_len(size_t n) {
    out_len_ = n;
    buffered_out_.store(n, std::memory_order_relaxed);
  }
  size_t out_cap_ = 0;
  size_t last_frame_header_ = 0;
};

// The raw pointers of owned channels (for the extra streams of a transfer).
std::vector<Channel*> pointers(const std::vector<std::unique_ptr<Channel>>& channels);

}  // namespace ferry
