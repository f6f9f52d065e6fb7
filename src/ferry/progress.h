// ProgressDisplay: a live status on a terminal, redrawn every interval: one
// line of rate, bytes, ETA and files from a Counters, and one line with the
// Monitor's current verdict and its evidence. Does nothing when the
// output is not a terminal. Thread-safety: start()/stop() from one thread;
// the display thread only reads the atomic counters.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "ferry/counters.h"
#include "ferry/monitor.h"

namespace ferry {

class ProgressDisplay {
 public:
  ProgressDisplay(const Counters& counters, bool enabled,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~ProgressDisplay();
  void start();
  void stop();
  // The monitor whose live verdict to show on a second line (or nullptr).
  void set_monitor(const Monitor* m) { monitor_ = m; }

 private:
  void loop();
  const Counters& counters_;
  bool enabled_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> running_{false};
  std::atomic<const Monitor*> monitor_{nullptr};
  std::thread thread_;
};

}  // namespace ferry
