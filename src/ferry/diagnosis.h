// Diagnosis: which stage of the pipeline limits a transfer, from the
// kernel's numbers and the time each side spends in each stage.
//
// A Sample is one side's view of one interval: the fraction of the interval
// its threads spent in each stage (StageTimes deltas), the kernel's TCP
// chrono accounting over the interval (busy / rwnd-limited / sndbuf-limited),
// and a snapshot of queues, window and congestion state. Each side samples
// itself; the receiver's samples travel to the sender in STATS frames and
// the sender's to the receiver, so either end can judge with both views.
//
// judge() maps a pair of samples to one word of a fixed vocabulary with the
// evidence behind it; the rules and the kernel semantics they rely on are in
// docs/DIAGNOSIS.md. Thread-safety: pure functions on values.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "net/tcp_stats.h"

namespace ferry {

struct Sample {
  std::string role;      // "sender" or "receiver"
  double t = 0;          // seconds since the transfer began (end of interval)
  double interval = 0;   // seconds covered
  uint64_t bytes = 0;    // file bytes moved in the interval
  uint32_t streams = 1;  // TCP streams (fractions below are per stream)
  // Fractions of the interval, per stream, that the side's threads waited
  // (off a CPU) in each stage: the wall time of the stage's calls less the
  // CPU time they used (stage_times.h).
  double source_read = 0;  // sender: waiting for the source
  double socket_send = 0;  // sender: blocked writing to the socket
  double socket_recv = 0;  // receiver: waiting for data from the socket
  double sink_write = 0;   // receiver: waiting for the sink to take (and sync) the data
  // The kernel's chrono accounting over the interval (sender's sockets).
  double tcp_busy = 0;
  double tcp_rwnd_limited = 0;
  double tcp_sndbuf_limited = 0;
  net::TcpStats tcp;  // snapshot at the end of the interval
  // CPU over the interval (cpu_watch.h): the busiest thread's time on a CPU
  // and waiting for one, the share of time a cgroup CPU quota held the
  // process back, and all threads' CPU seconds per second.
  double cpu_run = 0;
  double cpu_wait = 0;
  double cpu_throttled = 0;
  double cpu_process = 0;
  // Bytes in ferry's own buffers at the end of the interval: the receiver's
  // read from the socket but not yet written, the sender's not yet handed
  // to the socket.
  uint64_t app_buffered = 0;
  // Sender: whether its data in flight filled the peer's receive window,
  // while its congestion window allowed more (window_holds, from the
  // snapshot at the end of the interval): 0 or 1 for one interval, a share
  // for an average. Not sent; derived from the snapshot wherever one is read.
  double window_full = 0;

  double rate() const { return interval > 0 ? static_cast<double>(bytes) / interval : 0; }
  nlohmann::json to_json() const;
  // Strict: a peer's sample with missing or out-of-range fields is refused.
  static base::Result<Sample> from_json(const nlohmann::json& j);
};

// Whether the data in flight (sent, not yet acknowledged) reaches 90% of
// the peer's advertised window while the congestion window would allow
// more: the receiver's window, not the path, holds the sender. The chrono's
// rwnd-limited time counts such a flow only between ACKs, so it reads far
// under 100%; this snapshot test does not.
bool window_holds(const net::TcpStats& t);

// The vocabulary.
inline constexpr const char* kLimits[] = {"source-read",  "sender-cpu",     "send-buffer",
                                          "network",      "receive-window", "sink-write",
                                          "receiver-cpu", "balanced"};

struct Verdict {
  std::string limit;     // one of kLimits
  std::string evidence;  // the strongest numbers behind it, one line
  std::string advice;    // what would help, one line
};

// Judges one interval (or, with sums turned into averages, a whole
// transfer). Either sample may be missing early on; then it says what it can.
Verdict judge(const std::optional<Sample>& sender, const std::optional<Sample>& receiver);

// Running average of samples over a whole transfer, weighted by interval.
// Shares are averaged; so are the gauges a snapshot would misstate at the
// drained end of a transfer (queues, window, ferry's own buffer); the other
// TCP figures are the latest snapshot's.
class SampleAverage {
 public:
  void add(const Sample& s);
  std::optional<Sample> average() const;

 private:
  Sample sum_;
  double weight_ = 0;
  double inq_ = 0, outq_ = 0, snd_wnd_ = 0, app_buffered_ = 0;  // weighted sums
};

}  // namespace ferry
