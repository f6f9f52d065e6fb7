// ProgressDisplay: a live status on a terminal, redrawn every interval, in
// three lines: rate, bytes, ETA and files from a Counters; the pipeline line
// (pipeline_line.h) with the stage the Monitor's current verdict names in
// brackets; that verdict and its evidence. The last two are cut to 160
// columns. Does nothing when the output is not a terminal.
// Thread-safety: start()/stop() from one thread; the display thread only
// reads the atomic counters and asks the Monitor for its verdict.
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
