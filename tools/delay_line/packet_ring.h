// PacketRing: the bytes of the packets one direction holds, back to back in
// one buffer, first in first out. Packets range from 40-byte ACKs to 64 KiB
// GSO super-packets, so fixed-size buffers from a pool would waste 64 KiB on
// every ACK; here an ACK costs its own size. A packet is read straight into
// the space reserve() offers (no copy), kept by commit() or abandoned by not
// committing (a dropped packet costs nothing), and written out from front().
//
// Memory: one allocation of `capacity` bytes, touched only as the ring goes
// round; when the ring empties it starts again at the front, so a quiet
// path keeps to the pages it already touched.
// Thread-safety: one thread per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>

namespace delay_line {

class PacketRing {
 public:
  // `capacity` must be at least `max_packet`; it always fits one packet.
  PacketRing(size_t capacity, size_t max_packet);

  // Room for one packet of up to max_packet bytes at the back, or an empty
  // span when the ring is too full. Valid until the next commit() or pop().
  std::span<uint8_t> reserve();
  // Keeps the first `len` bytes (<= max_packet) of the last reserve().
  void commit(size_t len);

  bool empty() const { return slots_.empty(); }
  size_t packets() const { return slots_.size(); }
  // Bytes of the packets held (not counting space lost at the wrap).
  size_t bytes() const { return bytes_; }
  // The oldest packet; the ring must not be empty.
  std::span<const uint8_t> front() const;
  void pop();

 private:
  struct Slot {
    size_t offset;
    size_t len;
  };
  size_t capacity_, max_packet_;
  std::unique_ptr<uint8_t[]> data_;
  std::deque<Slot> slots_;
  size_t tail_ = 0;         // where the next packet goes (if it fits)
  size_t reserved_at_ = 0;  // offset of the last reserve()
  size_t bytes_ = 0;
};

}  // namespace delay_line
