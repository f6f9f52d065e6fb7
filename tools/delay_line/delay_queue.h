// DelayQueue: one direction of the delay line as pure arithmetic — which
// packets are dropped and when each admitted one leaves. No clocks, no
// syscalls: the caller passes the time, so tests can drive it.
//
// The path it models is a bottleneck link followed by a long wire. A packet
// arriving at `now` first waits for the link (if a rate is set), is
// serialized at that rate, then travels for `delay`:
//   finish    = max(now, previous finish) + wire_bytes * 8 / rate
//   departure = finish + delay
// so departure = max(now + delay, previous departure) + size / rate. Without
// a rate, departure = now + delay. Departures never decrease, so packets
// leave in the order they came (no reordering).
//
// Drops, in this order:
//   - loss: with probability `loss`, from a PRNG seeded with `seed` (so a
//     run is repeatable), before the packet takes any room or link time;
//   - queue: with a rate, tail drop when the bytes still waiting for the link
//     (the router's buffer, as a fluid: its backlog of serialization time
//     times the rate) plus this packet exceed `limit_bytes`; without a rate,
//     when the bytes held (admitted, not yet popped) would exceed it. A
//     packet that finds the queue empty is always taken, however large.
//
// Thread-safety: one thread per object.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace delay_line {

struct DelayConfig {
  int64_t delay_ns = 0;
  uint64_t rate_bps = 0;  // bits per second; 0: no rate limit
  uint64_t limit_bytes = 0;
  double loss = 0;  // 0..1
  uint64_t seed = 1;
};

enum class Verdict { kQueued, kLost, kQueueFull };

class DelayQueue {
 public:
  explicit DelayQueue(const DelayConfig& config);

  // A packet of `wire_bytes` arrives at `now_ns`; `now_ns` never decreases
  // from one call to the next.
  Verdict offer(int64_t now_ns, uint64_t wire_bytes);

  struct Packet {
    int64_t departure_ns = 0;
    uint64_t wire_bytes = 0;
  };
  // The departure of the oldest queued packet, or nullopt when empty.
  std::optional<int64_t> next_departure() const;
  // Removes and returns the oldest packet if it is due at `now_ns`.
  std::optional<Packet> pop_due(int64_t now_ns);

  size_t packets() const { return queue_.size(); }
  uint64_t held_bytes() const { return held_bytes_; }
  // With a rate: bytes waiting for (or still on) the link at `now_ns`.
  uint64_t backlog_bytes(int64_t now_ns) const;
  // The most bytes this queue can hold at once, for sizing its storage:
  // limit_bytes plus, with a rate, what the wire holds (delay * rate), plus
  // two packets of `max_packet` bytes (one taken by an empty queue, one
  // half on the wire).
  uint64_t max_held_bytes(uint64_t max_packet) const;

 private:
  bool lose();
  int64_t serialization_ns(uint64_t wire_bytes) const;

  DelayConfig config_;
  uint64_t loss_threshold_ = 0;  // lose when the next PRNG word is below this
  uint64_t rng_state_;
  int64_t link_free_ns_ = 0;  // when the link finishes what it was given
  uint64_t held_bytes_ = 0;
  std::deque<Packet> queue_;
};

}  // namespace delay_line
