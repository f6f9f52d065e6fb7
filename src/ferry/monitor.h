// Monitor: watches one side of a transfer. Every interval it samples its own
// side (stage times, bytes, TCP_INFO and socket queues of every stream, its
// threads' CPU and any cgroup CPU throttling, its own buffer's backlog),
// hands the sample to `publish` (which sends it to the peer in a STATS
// frame), and keeps the peer's samples as they arrive. From the latest pair
// it gives the live verdict; from the running averages, the verdict for the
// whole transfer. With a trace path, every sample of both ends is appended
// to that file as one JSON line.
// Thread-safety: start()/stop() from the owning thread; add_peer(),
// current(), overall(), summary() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ferry/channel.h"
#include "ferry/counters.h"
#include "ferry/cpu_watch.h"
#include "ferry/diagnosis.h"

namespace ferry {

class Monitor {
 public:
  using Publish = std::function<void(const Sample&)>;
  Monitor(std::string role, Counters& counters, std::chrono::milliseconds interval);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Before start(): where to send samples, and an optional trace file.
  void set_publish(Publish p) { publish_ = std::move(p); }
  base::Status open_trace(const std::string& path);
  // Watches a transfer's streams: their sockets' TCP statistics, and the
  // time they block, accounted in `counters_`' stage times.
  void watch_streams(Channel& primary, const std::vector<Channel*>& extra);

  void start();
  // Takes a last sample of the partial interval, then stops.
  void stop();

  void add_peer(const Sample& s);
  // The latest sample of each end (sender, receiver), as the live verdict
  // sees them.
  std::pair<std::optional<Sample>, std::optional<Sample>> latest() const;
  Verdict current() const;
  Verdict overall() const;
  // {"bottleneck", "evidence", "advice", "shares": {...}} for --json.
  nlohmann::json summary() const;

 private:
  void loop();
  void take_sample();
  void record(const Sample& s, bool local);

  std::string role_;
  Counters& counters_;
  std::chrono::milliseconds interval_;
  Publish publish_;
  std::vector<Channel*> channels_;
  std::optional<CpuWatch> cpu_;

  std::thread thread_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;

  // Previous readings, for deltas (sampling thread only).
  std::chrono::steady_clock::time_point started_, last_;
  uint64_t last_bytes_ = 0;
  uint64_t last_stage_[static_cast<size_t>(Stage::kCount)] = {};
  double carry_[static_cast<size_t>(Stage::kCount)] = {};  // ns not yet attributed
  uint64_t last_busy_ = 0, last_rwnd_ = 0, last_sndbuf_ = 0;

  mutable std::mutex mu_;
  std::optional<Sample> local_, peer_;
  SampleAverage local_avg_, peer_avg_;
  FILE* trace_ = nullptr;
};

// Runs `role` (a Sender or a Receiver) under `monitor`: the peer's samples
// go to the monitor, the monitor's to the peer; sampling starts before the
// transfer and takes its last sample after it.
template <typename Role>
auto run_monitored(Role& role, Monitor& monitor) -> decltype(role.run()) {
  role.set_monitor(&monitor);
  monitor.set_publish([&role](const Sample& s) { role.post_stats(s); });
  monitor.start();
  auto result = role.run();
  monitor.stop();
  return result;
}

}  // namespace ferry
