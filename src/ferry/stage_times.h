// StageTimes: where a transfer's threads spend their time, by pipeline
// stage, in nanoseconds: reading the source, sending on the socket,
// receiving from the socket, writing to the sink, syncing the sink. For each
// stage two totals: the wall time of its calls, and the part of it the
// calling thread spent on a CPU (copying, the kernel's TCP work). Their
// difference is the time the thread waited in the stage: for the disk, for
// room in the socket buffer, for data to arrive.
// StageTimer adds one call's times: two vDSO wall-clock reads and two reads
// of the thread's CPU clock (a system call each, ~0.2 µs; a call moves up to
// a MiB or more, so this stays far below 1% of its cost).
// Thread-safety: atomic counters; any thread may add or read.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ferry {

enum class Stage { kSourceRead, kSocketSend, kSocketRecv, kSinkWrite, kSinkSync, kCount };

class StageTimes {
 public:
  void add(Stage s, uint64_t wall_ns, uint64_t cpu_ns) {
    wall_[static_cast<size_t>(s)].fetch_add(wall_ns, std::memory_order_relaxed);
    cpu_[static_cast<size_t>(s)].fetch_add(cpu_ns, std::memory_order_relaxed);
  }
  uint64_t wall(Stage s) const {
    return wall_[static_cast<size_t>(s)].load(std::memory_order_relaxed);
  }
  uint64_t cpu(Stage s) const {
    return cpu_[static_cast<size_t>(s)].load(std::memory_order_relaxed);
  }
  // Wall time not spent on a CPU: waiting.
  uint64_t waited(Stage s) const {
    uint64_t w = wall(s), c = cpu(s);
    return w > c ? w - c : 0;
  }

 private:
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Stage::kCount)> wall_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Stage::kCount)> cpu_{};
};

// This thread's CPU time so far, in ns (CLOCK_THREAD_CPUTIME_ID cannot fail
// for the calling thread).
inline uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class StageTimer {
 public:
  StageTimer(StageTimes* times, Stage stage)
      : times_(times),
        stage_(stage),
        start_(times ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}),
        cpu_start_(times ? thread_cpu_ns() : 0) {}
  ~StageTimer() {
    if (!times_) return;
    uint64_t cpu = thread_cpu_ns() - cpu_start_;
    auto wall = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - start_)
                                          .count());
    times_->add(stage_, wall, cpu);
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  StageTimes* times_;
  Stage stage_;
  std::chrono::steady_clock::time_point start_;
  uint64_t cpu_start_;
};

}  // namespace ferry
