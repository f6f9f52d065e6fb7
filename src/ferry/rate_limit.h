// RateLimit: --bwlimit. Holds the bytes a transfer moves through its
// sockets, in both directions and over all its streams together, to a rate:
// each slice of data waits for its turn (the first goes at once; idle time
// earns no credit). A sender so writes no faster than the
// rate; a receiver reads no faster, so its socket buffer fills, its window
// closes, and the far sender waits.
// Thread-safety: pace() from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace ferry {

class RateLimit {
 public:
  explicit RateLimit(uint64_t bytes_per_second);
  uint64_t rate() const { return rate_; }
  // How much to move at a time: about 20 ms at the rate, 4 KiB to 1 MiB.
  size_t slice() const { return slice_; }
  // Waits until `bytes` may move.
  void pace(size_t bytes);

 private:
  using Clock = std::chrono::steady_clock;
  uint64_t rate_;
  size_t slice_;
  std::mutex mu_;
  Clock::time_point next_;  // when the next bytes may move
};

}  // namespace ferry
