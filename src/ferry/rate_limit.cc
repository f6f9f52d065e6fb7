#include "ferry/rate_limit.h"

#include <algorithm>
#include <thread>

namespace ferry {

RateLimit::RateLimit(uint64_t bytes_per_second)
    : rate_(std::max<uint64_t>(bytes_per_second, 1)),
      slice_(static_cast<size_t>(std::clamp<uint64_t>(rate_ / 50, 4u << 10, 1u << 20))),
      next_(Clock::now()) {}

void RateLimit::pace(size_t bytes) {
  auto cost = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate_)));
  Clock::time_point due;
  {
    std::lock_guard lock(mu_);
    // Idle time earns no credit: the turn after a pause starts now.
    next_ = std::max(next_, Clock::now());
    due = next_;
    next_ += cost;
  }
  std::this_thread::sleep_until(due);
}

}  // namespace ferry
