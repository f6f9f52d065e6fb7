// StageTimes: where a transfer's threads spend their time, by pipeline
// stage, in nanoseconds: reading the source, blocked sending on the socket,
// waiting for data from the socket, writing to the sink, syncing the sink.
// StageTimer adds the time of one call (two vDSO clock reads: ~40 ns).
// Thread-safety: atomic counters; any thread may add or read.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ferry {

enum class Stage { kSourceRead, kSocketSend, kSocketRecv, kSinkWrite, kSinkSync, kCount };

class StageTimes {
 public:
  void add(Stage s, uint64_t ns) {
    ns_[static_cast<size_t>(s)].fetch_add(ns, std::memory_order_relaxed);
  }
  uint64_t get(Stage s) const {
    return ns_[static_cast<size_t>(s)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Stage::kCount)> ns_{};
};

class StageTimer {
 public:
  StageTimer(StageTimes* times, Stage stage)
      : times_(times), stage_(stage), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    if (times_)
      times_->add(stage_,
                  static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - start_)
                                            .count()));
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  StageTimes* times_;
  Stage stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ferry
