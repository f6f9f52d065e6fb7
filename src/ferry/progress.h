// ProgressDisplay: a live status line on a terminal (rate, bytes, ETA,
// files), redrawn every interval from a Counters. Does nothing when the
// output is not a terminal. Thread-safety: start()/stop() from one thread;
// the display thread only reads the atomic counters.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "ferry/counters.h"

namespace ferry {

class ProgressDisplay {
 public:
  ProgressDisplay(const Counters& counters, bool enabled,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~ProgressDisplay();
  void start();
  void stop();

 private:
  void loop();
  const Counters& counters_;
  bool enabled_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace ferry
