#include "ferry/pipeline_boxes.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/units.h"

namespace ferry {
namespace {

using Samples = std::vector<Sample>;

std::string pct(double share) {
  return fmt::format("{}%", std::lround(std::clamp(share, 0.0, 1.0) * 100));
}

// Interval-weighted mean of `f` over `v` (0 when empty).
double mean(const Samples& v, const SampleMeasure& f) {
  double sum = 0, weight = 0;
  for (const auto& s : v) {
    sum += f(s) * s.interval;
    weight += s.interval;
  }
  return weight > 0 ? sum / weight : 0;
}

std::string rate_of(const Samples& v) {
  double bytes = 0, secs = 0;
  for (const auto& s : v) {
    bytes += static_cast<double>(s.bytes);
    secs += s.interval;
  }
  return secs > 0 ? base::units::rate(bytes / secs) : "no samples";
}

std::string bytes_text(double n) {
  return base::units::bytes(static_cast<uint64_t>(std::max(0.0, n)));
}

StageSpark share_spark(std::string caption, SampleMeasure f, ShareKind kind) {
  return StageSpark{std::move(caption), std::move(f), 1, kind, nullptr};
}

StageSpark cpu_spark() {
  return StageSpark{"CPU (red: kept from one)", [](const Sample& s) { return s.cpu_run; }, 1,
                    ShareKind::kCpu, [](const Sample& s) { return cpu_starved(s); }};
}

// Bytes over time, drawn against `floor` or their own peak if higher (so a
// few hundred bytes in a buffer of megabytes stay a flat line).
StageSpark bytes_spark(const Samples& v, const std::string& what, SampleMeasure f, ShareKind kind,
                       double floor) {
  double top = max_of(v, f);
  return StageSpark{fmt::format("{} (top {})", what, bytes_text(top)), std::move(f),
                    std::max({top, floor, 1.0}), kind, nullptr};
}

StageBox program_box(const Samples& v, const std::string& who) {
  StageBox b;
  b.rate = rate_of(v);
  double run = mean(v, [](const Sample& s) { return s.cpu_run; });
  double wait = mean(v, [](const Sample& s) { return s.cpu_wait; });
  double thr = mean(v, [](const Sample& s) { return s.cpu_throttled; });
  double starved = mean(v, cpu_starved);
  b.headline = "on a CPU " + pct(run);
  b.details = {"CPU wait " + pct(wait), "throttled " + pct(thr),
               fmt::format("all threads {:.2f} CPU",
                           mean(v, [](const Sample& s) { return s.cpu_process; }))};
  b.bar = StageBar{run, starved, ShareKind::kCpu};
  // The program's own buffer, against its socket's buffer.
  double socket_buffer = max_of(v, [](const Sample& s) {
    return static_cast<double>(s.role == "sender" ? s.tcp.sndbuf : s.tcp.rcvbuf);
  });
  b.sparks = {cpu_spark(), bytes_spark(
                               v, "own buffer",
                               [](const Sample& s) { return static_cast<double>(s.app_buffered); },
                               ShareKind::kQueue, socket_buffer)};
  b.tooltip = fmt::format(
      "{}: its busiest thread ran on a CPU {} of the time and waited for one {}; a CPU quota "
      "held it back {}",
      who, pct(run), pct(wait), pct(thr));
  return b;
}

StageBox box_for(PipeStage st, const Samples& snd, const Samples& rcv) {
  StageBox b;
  switch (st) {
    case PipeStage::kSource: {
      double w = mean(snd, [](const Sample& s) { return s.source_read; });
      b.rate = rate_of(snd);
      b.headline = "waited " + pct(w);
      b.bar = StageBar{w, 0, ShareKind::kWait};
      b.sparks = {share_spark(
          "waited", [](const Sample& s) { return s.source_read; }, ShareKind::kWait)};
      b.tooltip = "source: the sender waited for its source " + pct(w) + " of the time";
      return b;
    }
    case PipeStage::kSender:
      return program_box(snd, "sending ferry");
    case PipeStage::kSendBuffer: {
      double fill = mean(snd, send_queue_fill);
      b.rate = rate_of(snd);
      b.headline = "full " + pct(fill);
      b.details = {
          "of " + bytes_text(max_of(snd, [](const Sample& s) { return s.tcp.sndbuf; })),
          "ferry blocked " + pct(mean(snd, [](const Sample& s) { return s.socket_send; })),
          "buffer-bound " + pct(mean(snd, [](const Sample& s) { return s.tcp_sndbuf_limited; }))};
      b.bar = StageBar{fill, 0, ShareKind::kQueue};
      b.sparks = {share_spark("send queue / sndbuf", send_queue_fill, ShareKind::kQueue)};
      b.tooltip = fmt::format(
          "send buffer: bytes queued on the sender's socket (SIOCOUTQ) against its size "
          "(SO_SNDBUF), {} on average",
          pct(fill));
      return b;
    }
    case PipeStage::kNetwork: {
      double cwnd_bound = mean(snd, network_limited);
      b.rate = rate_of(snd);
      b.headline = "cwnd-bound " + pct(cwnd_bound);
      b.details = {
          fmt::format("rtt {:.1f} ms",
                      mean(snd, [](const Sample& s) { return s.tcp.rtt_us; }) / 1000),
          fmt::format("cwnd {:.0f} segments",
                      mean(snd, [](const Sample& s) { return s.tcp.snd_cwnd; })),
          fmt::format("{:.0f} retransmits",
                      snd.empty() ? 0.0 : static_cast<double>(snd.back().tcp.total_retrans))};
      b.bar = StageBar{cwnd_bound, 0, ShareKind::kNetwork};
      b.sparks = {bytes_spark(
          snd, "window", [](const Sample& s) { return s.tcp.snd_wnd; }, ShareKind::kNetwork, 0)};
      b.tooltip = "network: the sender had data it could send but for the congestion window " +
                  pct(cwnd_bound) + " of the time";
      return b;
    }
    case PipeStage::kReceiveBuffer: {
      double fill = mean(rcv, receive_queue_fill);
      b.rate = rate_of(rcv);
      b.headline = "full " + pct(fill);
      b.details = {
          "of " + bytes_text(max_of(rcv, [](const Sample& s) { return s.tcp.rcvbuf; })),
          "window-bound " + pct(mean(snd, [](const Sample& s) { return s.tcp_rwnd_limited; })),
          "ferry waited " + pct(mean(rcv, [](const Sample& s) { return s.socket_recv; }))};
      b.bar = StageBar{fill, 0, ShareKind::kQueue};
      b.sparks = {share_spark("receive queue / rcvbuf", receive_queue_fill, ShareKind::kQueue)};
      b.tooltip = fmt::format(
          "receive buffer: bytes the receiver's kernel holds unread (SIOCINQ) against its size "
          "(SO_RCVBUF), {} on average; a full one closes the window the sender sees",
          pct(fill));
      return b;
    }
    case PipeStage::kReceiver:
      return program_box(rcv, "receiving ferry");
    case PipeStage::kSink: {
      double w = mean(rcv, [](const Sample& s) { return s.sink_write; });
      b.rate = rate_of(rcv);
      b.headline = "waited " + pct(w);
      b.bar = StageBar{w, 0, ShareKind::kWait};
      b.sparks = {share_spark(
          "waited", [](const Sample& s) { return s.sink_write; }, ShareKind::kWait)};
      b.tooltip = "sink: the receiver waited for its sink " + pct(w) + " of the time";
      return b;
    }
  }
  return b;
}

}  // namespace

double max_of(const std::vector<Sample>& v, const SampleMeasure& f) {
  double m = 0;
  for (const auto& s : v) m = std::max(m, f(s));
  return m;
}

StageBox stage_box(PipeStage st, const Samples& snd, const Samples& rcv) {
  StageBox b = box_for(st, snd, rcv);
  b.samples = st <= PipeStage::kNetwork ? &snd : &rcv;
  return b;
}

}  // namespace ferry
