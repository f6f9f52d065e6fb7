#include "tools/delay_line/direction.h"

#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "base/units.h"
#include "tools/delay_line/vnet_frame.h"

namespace delay_line {
namespace {

// The ring holds what the queue may hold, with room for the vnet headers
// (a 40-byte ACK takes 50 bytes here but counts 40 on the wire) and for the
// space left unused where the ring wraps.
size_t ring_capacity(const DelayQueue& q) {
  uint64_t held = q.max_held_bytes(kMaxFrame);
  return held + held / 2 + 4 * kMaxFrame;
}

}  // namespace

Direction::Direction(std::string name, int in_fd, int out_fd, const DelayConfig& config)
    : name_(std::move(name)),
      in_fd_(in_fd),
      out_fd_(out_fd),
      queue_(config),
      ring_(ring_capacity(queue_), kMaxFrame),
      scratch_(kMaxFrame) {}

base::Result<int> Direction::read_some(int64_t now_ns, int budget) {
  for (int i = 0; i < budget; ++i) {
    std::span<uint8_t> room = ring_.reserve();
    bool kept = !room.empty();
    if (!kept) room = scratch_;
    auto n = base::sys::read(in_fd_, room.data(), room.size(), name_);
    if (!n) {
      if (n.error().code() == EAGAIN) return i;
      return base::fail(std::move(n).error());
    }
    uint64_t wire = wire_bytes(room.first(*n));
    if (wire == 0) continue;  // shorter than a vnet header: nothing to forward
    Verdict v = kept ? queue_.offer(now_ns, wire) : Verdict::kQueueFull;
    if (v == Verdict::kQueued) {
      ring_.commit(*n);
      continue;
    }
    stats_.dropped_bytes += wire;
    if (!kept)
      ++stats_.ring_full;
    else if (v == Verdict::kLost)
      ++stats_.lost;
    else
      ++stats_.queue_full;
  }
  return budget;
}

void Direction::send_due(int64_t now_ns) {
  while (auto p = queue_.pop_due(now_ns)) {
    std::span<const uint8_t> frame = ring_.front();
    auto written = base::sys::write(out_fd_, frame.data(), frame.size(), name_);
    if (written) {
      ++stats_.packets;
      stats_.bytes += p->wire_bytes;
    } else {
      if (stats_.write_failed++ == 0)
        base::log::warn("{} (counted as dropped from now on)", written.error().message());
      stats_.dropped_bytes += p->wire_bytes;
    }
    ring_.pop();
  }
}

std::string Direction::summary() const {
  std::string s = fmt::format("{}: {} packets ({}) forwarded, {} dropped", name_, stats_.packets,
                              base::units::bytes(stats_.bytes), stats_.dropped());
  if (stats_.dropped() == 0) return s;
  std::string why;
  auto reason = [&](uint64_t n, const char* what) {
    if (n != 0) why += fmt::format("{}{} {}", why.empty() ? "" : ", ", n, what);
  };
  reason(stats_.lost, "loss");
  reason(stats_.queue_full, "queue full");
  reason(stats_.ring_full, "no room");
  reason(stats_.write_failed, "write failed");
  return fmt::format("{} ({}; {})", s, base::units::bytes(stats_.dropped_bytes), why);
}

}  // namespace delay_line
