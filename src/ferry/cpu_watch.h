// CpuWatch: how much CPU this process's threads got over an interval, and
// how long they wanted a CPU but did not get one. The kernel's own numbers:
//   /proc/self/task/<tid>/schedstat — per thread, ns on a CPU and ns
//       runnable but waiting in a run queue (another task had the core);
//   cpu.stat of this process's cgroup and of each ancestor (cgroup v1 "cpu"
//       and v2 alike) — time throttled by a CPU quota. A throttled thread is
//       taken off the run queue, so that time does not show in schedstat.
// The diagnosis uses the busiest thread (the one doing the transfer's work)
// and the worst throttling on the path to the root.
// Thread-safety: one CpuWatch is sampled from one thread; the parse
// functions are pure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

struct CpuShares {
  double busiest_run = 0;   // the busiest thread's time on a CPU, share of the interval
  double busiest_wait = 0;  // that thread's time waiting for a CPU, share of the interval
  double process = 0;       // all threads' CPU time / interval (CPU seconds per second)
  double throttled = 0;     // share of the interval a CPU quota held this process back
};

// One thread's cumulative times from schedstat ("run_ns wait_ns slices").
struct ThreadTimes {
  uint64_t run_ns = 0;
  uint64_t wait_ns = 0;
};
std::optional<ThreadTimes> parse_schedstat(std::string_view text);
// Cumulative throttled time in ns from a cpu.stat file: v1's
// "throttled_time" (ns) or v2's "throttled_usec"; nullopt when neither is there
// (a v2 group without the cpu controller).
std::optional<uint64_t> parse_throttled_ns(std::string_view cpu_stat);
// The cpu.stat files that can throttle this process: its own cgroup's and
// each ancestor's, in every hierarchy that accounts CPU (the v1 "cpu"
// controller's and the v2 one's), from /proc/self/cgroup and
// /proc/self/mountinfo.
std::vector<std::string> cpu_stat_paths(std::string_view proc_cgroup, std::string_view mountinfo);

class CpuWatch {
 public:
  CpuWatch();  // finds the cgroup files and takes the first reading
  // Shares since the previous call (or construction), over `interval_s`.
  CpuShares sample(double interval_s);

 private:
  std::map<pid_t, ThreadTimes> threads_;
  std::vector<std::string> stat_paths_;
  std::vector<uint64_t> throttled_;  // per stat path, cumulative ns
  std::map<pid_t, ThreadTimes> read_threads() const;
  std::vector<uint64_t> read_throttled() const;
};

}  // namespace ferry
