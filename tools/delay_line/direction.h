// Direction: one way through the delay line — frames read from one TUN
// device, held in a PacketRing in the order they came, and written to the
// other TUN device when their DelayQueue departure is due. Drops (loss,
// a full queue, a full ring) happen at the read; write failures are counted
// as drops too and the first one is logged.
// Thread-safety: one thread per object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "tools/delay_line/delay_queue.h"
#include "tools/delay_line/packet_ring.h"

namespace delay_line {

struct DirectionStats {
  uint64_t packets = 0;       // frames written (a GSO super-packet counts once)
  uint64_t bytes = 0;         // their bytes on a wire (vnet_frame.h's wire_bytes)
  uint64_t lost = 0;          // random loss
  uint64_t queue_full = 0;    // tail drop at the limit
  uint64_t ring_full = 0;     // no room left to hold the frame
  uint64_t write_failed = 0;  // the other device refused it
  uint64_t dropped_bytes = 0;
  uint64_t dropped() const { return lost + queue_full + ring_full + write_failed; }
};

class Direction {
 public:
  // `name` ("a->b") labels messages; the descriptors are not owned.
  Direction(std::string name, int in_fd, int out_fd, const DelayConfig& config);

  // Reads up to `budget` waiting frames that arrived by `now_ns`; returns
  // how many it read (fewer than `budget`: the device is drained).
  base::Result<int> read_some(int64_t now_ns, int budget);
  // Writes every frame due at `now_ns`.
  void send_due(int64_t now_ns);
  std::optional<int64_t> next_departure() const { return queue_.next_departure(); }
  int in_fd() const { return in_fd_; }

  const DirectionStats& stats() const { return stats_; }
  // "a->b: 1200 packets (1.41 GiB) forwarded, 3 dropped (180 KiB; 1 loss, 2 queue full)".
  std::string summary() const;

 private:
  std::string name_;
  int in_fd_, out_fd_;
  DelayQueue queue_;
  PacketRing ring_;
  std::vector<uint8_t> scratch_;  // where a frame the ring has no room for is read
  DirectionStats stats_;
};

}  // namespace delay_line
