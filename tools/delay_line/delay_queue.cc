#include "tools/delay_line/delay_queue.h"

#include <algorithm>
#include <cmath>

namespace delay_line {

DelayQueue::DelayQueue(const DelayConfig& config) : config_(config), rng_state_(config.seed) {
  double p = std::clamp(config.loss, 0.0, 1.0);
  // p * 2^64, saturating: p == 1 loses every packet.
  loss_threshold_ = p >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(p, 64));
}

bool DelayQueue::lose() {
  if (loss_threshold_ == 0) return false;
  // splitmix64: tiny, fast, and every seed (0 too) gives a good sequence.
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return loss_threshold_ == UINT64_MAX || z < loss_threshold_;
}

int64_t DelayQueue::serialization_ns(uint64_t wire_bytes) const {
  // Rounded up, so the rate is never exceeded.
  unsigned __int128 bits_ns = static_cast<unsigned __int128>(wire_bytes) * 8 * 1'000'000'000u;
  return static_cast<int64_t>((bits_ns + config_.rate_bps - 1) / config_.rate_bps);
}

uint64_t DelayQueue::backlog_bytes(int64_t now_ns) const {
  if (config_.rate_bps == 0 || link_free_ns_ <= now_ns) return 0;
  auto wait = static_cast<unsigned __int128>(link_free_ns_ - now_ns);
  return static_cast<uint64_t>(wait * config_.rate_bps / 8 / 1'000'000'000u);
}

Verdict DelayQueue::offer(int64_t now_ns, uint64_t wire_bytes) {
  if (lose()) return Verdict::kLost;
  if (config_.rate_bps == 0) {
    if (!queue_.empty() && held_bytes_ + wire_bytes > config_.limit_bytes)
      return Verdict::kQueueFull;
    queue_.push_back({now_ns + config_.delay_ns, wire_bytes});
  } else {
    uint64_t backlog = backlog_bytes(now_ns);
    if (backlog > 0 && backlog + wire_bytes > config_.limit_bytes) return Verdict::kQueueFull;
    link_free_ns_ = std::max(link_free_ns_, now_ns) + serialization_ns(wire_bytes);
    queue_.push_back({link_free_ns_ + config_.delay_ns, wire_bytes});
  }
  held_bytes_ += wire_bytes;
  return Verdict::kQueued;
}

std::optional<int64_t> DelayQueue::next_departure() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.front().departure_ns;
}

std::optional<DelayQueue::Packet> DelayQueue::pop_due(int64_t now_ns) {
  if (queue_.empty() || queue_.front().departure_ns > now_ns) return std::nullopt;
  Packet p = queue_.front();
  queue_.pop_front();
  held_bytes_ -= p.wire_bytes;
  return p;
}

uint64_t DelayQueue::max_held_bytes(uint64_t max_packet) const {
  uint64_t wire = 0;
  if (config_.rate_bps != 0) {
    auto bits = static_cast<unsigned __int128>(config_.delay_ns) * config_.rate_bps;
    wire = static_cast<uint64_t>(bits / 8 / 1'000'000'000u) + 1;
  }
  return config_.limit_bytes + wire + 2 * max_packet;
}

}  // namespace delay_line
