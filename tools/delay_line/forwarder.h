// Forwarder: the delay line's event loop. One thread polls both TUN
// devices, a timer and a signal descriptor: it reads whatever frames wait,
// writes whatever frames are due, and arms the timer (CLOCK_MONOTONIC,
// absolute) at the earliest departure still pending. It runs until the
// signal descriptor becomes readable (SIGTERM or SIGINT).
// Thread-safety: one thread per object.
#pragma once

#include <string>

#include "base/error.h"
#include "tools/delay_line/delay_queue.h"
#include "tools/delay_line/direction.h"
#include "tools/delay_line/tun_device.h"

namespace delay_line {

class Forwarder {
 public:
  // Frames from `a` go to `b` and back, each way through its own
  // DelayQueue with `config` (the loss PRNG of b->a seeded differently).
  Forwarder(const TunDevice& a, const TunDevice& b, const DelayConfig& config);

  // Forwards until `stop_fd` is readable; returns early only on an error
  // reading a device or polling.
  base::Status run(int stop_fd);

  // One line: both directions' summaries.
  std::string summary() const;

 private:
  Direction a_to_b_, b_to_a_;
};

}  // namespace delay_line
