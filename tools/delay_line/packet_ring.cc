#include "tools/delay_line/packet_ring.h"

#include <algorithm>

namespace delay_line {

PacketRing::PacketRing(size_t capacity, size_t max_packet)
    : capacity_(std::max(capacity, max_packet)),
      max_packet_(max_packet),
      data_(std::make_unique_for_overwrite<uint8_t[]>(capacity_)) {}

std::span<uint8_t> PacketRing::reserve() {
  size_t at = 0;
  if (!slots_.empty()) {
    size_t head = slots_.front().offset;
    // Held bytes lie in [head, tail_) (not wrapped) or in [head, end) and
    // [0, tail_) (wrapped, tail_ < head). tail_ must stay below head once
    // wrapped, so that tail_ >= head always means "not wrapped".
    if (tail_ >= head) {
      if (capacity_ - tail_ >= max_packet_) {
        at = tail_;
      } else if (head > max_packet_) {
        at = 0;  // wrap: the end of the buffer is left unused this round
      } else {
        return {};
      }
    } else if (head - tail_ > max_packet_) {
      at = tail_;
    } else {
      return {};
    }
  }
  reserved_at_ = at;
  return {data_.get() + at, max_packet_};
}

void PacketRing::commit(size_t len) {
  len = std::min(len, max_packet_);
  slots_.push_back({reserved_at_, len});
  tail_ = reserved_at_ + len;
  bytes_ += len;
}

std::span<const uint8_t> PacketRing::front() const {
  const Slot& s = slots_.front();
  return {data_.get() + s.offset, s.len};
}

void PacketRing::pop() {
  bytes_ -= slots_.front().len;
  slots_.pop_front();
  if (slots_.empty()) tail_ = 0;
}

}  // namespace delay_line
