#include "ferry/diagnosis.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/units.h"

namespace ferry {
namespace {

int pct(double f) {
  return static_cast<int>(std::lround(std::clamp(f, 0.0, 1.0) * 100));
}

std::string window_text(const Sample& s) {
  return base::units::bytes(s.tcp.snd_wnd);
}

// Fullness of the receiver's socket buffer: queued-but-unread bytes against
// the buffer's size (SIOCINQ / SO_RCVBUF; the kernel reserves part of
// SO_RCVBUF for overhead, so "full" shows as roughly half to three quarters).
double queue_fill(const Sample& r) {
  return r.tcp.rcvbuf > 0 ? static_cast<double>(r.tcp.inq) / r.tcp.rcvbuf : 0;
}

}  // namespace

bool window_holds(const net::TcpStats& t) {
  if (t.snd_wnd == 0 || t.outq_unsent < 0 || t.outq < t.outq_unsent) return false;
  double in_flight = static_cast<double>(t.outq - t.outq_unsent);
  double cwnd_bytes = static_cast<double>(t.snd_cwnd) * t.snd_mss;
  return in_flight >= 0.9 * t.snd_wnd && cwnd_bytes > t.snd_wnd;
}

nlohmann::json Sample::to_json() const {
  return {{"role", role},
          {"t", t},
          {"interval", interval},
          {"bytes", bytes},
          {"streams", streams},
          {"source_read", source_read},
          {"socket_send", socket_send},
          {"socket_recv", socket_recv},
          {"sink_write", sink_write},
          {"tcp_busy", tcp_busy},
          {"tcp_rwnd_limited", tcp_rwnd_limited},
          {"tcp_sndbuf_limited", tcp_sndbuf_limited},
          {"cwnd", tcp.snd_cwnd},
          {"mss", tcp.snd_mss},
          {"rtt_us", tcp.rtt_us},
          {"min_rtt_us", tcp.min_rtt_us},
          {"delivery_rate", tcp.delivery_rate},
          {"snd_wnd", tcp.snd_wnd},
          {"rcv_space", tcp.rcv_space},
          {"notsent", tcp.notsent_bytes},
          {"retrans", tcp.total_retrans},
          {"inq", tcp.inq},
          {"outq", tcp.outq},
          {"outq_unsent", tcp.outq_unsent},
          {"sndbuf", tcp.sndbuf},
          {"rcvbuf", tcp.rcvbuf},
          {"cpu_run", cpu_run},
          {"cpu_wait", cpu_wait},
          {"cpu_throttled", cpu_throttled},
          {"cpu_process", cpu_process},
          {"app_buffered", app_buffered}};
}

base::Result<Sample> Sample::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return base::fail_msg("STATS: not an object");
  Sample s;
  auto num = [&](const char* key, double lo, double hi) -> base::Result<double> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
      return base::fail_msg(fmt::format("STATS: field '{}' missing or not a number", key));
    double v = it->get<double>();
    if (!(v >= lo && v <= hi))
      return base::fail_msg(fmt::format("STATS: field '{}' out of range", key));
    return v;
  };
  auto role = j.find("role");
  if (role == j.end() || !role->is_string() ||
      (role->get<std::string>() != "sender" && role->get<std::string>() != "receiver"))
    return base::fail_msg("STATS: field 'role' must be sender or receiver");
  s.role = role->get<std::string>();
  constexpr double kBig = 1.8e19, kU32 = 4294967295.0, kInt = 2147483647.0;
  s.t = TRY(num("t", 0, 1e9));
  // An interval is 10 ms or more (Monitor::take_sample); a peer's tiny one
  // would make its rate infinite.
  s.interval = TRY(num("interval", 1e-3, 3600));
  s.bytes = static_cast<uint64_t>(TRY(num("bytes", 0, kBig)));
  s.streams = static_cast<uint32_t>(TRY(num("streams", 1, 16)));
  s.source_read = TRY(num("source_read", 0, 100));
  s.socket_send = TRY(num("socket_send", 0, 100));
  s.socket_recv = TRY(num("socket_recv", 0, 100));
  s.sink_write = TRY(num("sink_write", 0, 100));
  s.tcp_busy = TRY(num("tcp_busy", 0, 100));
  s.tcp_rwnd_limited = TRY(num("tcp_rwnd_limited", 0, 100));
  s.tcp_sndbuf_limited = TRY(num("tcp_sndbuf_limited", 0, 100));
  s.tcp.snd_cwnd = static_cast<uint32_t>(TRY(num("cwnd", 0, kU32)));
  s.tcp.snd_mss = static_cast<uint32_t>(TRY(num("mss", 0, kU32)));
  s.tcp.rtt_us = static_cast<uint32_t>(TRY(num("rtt_us", 0, kU32)));
  s.tcp.min_rtt_us = static_cast<uint32_t>(TRY(num("min_rtt_us", 0, kU32)));
  s.tcp.delivery_rate = static_cast<uint64_t>(TRY(num("delivery_rate", 0, kBig)));
  s.tcp.snd_wnd = static_cast<uint32_t>(TRY(num("snd_wnd", 0, kU32)));
  s.tcp.rcv_space = static_cast<uint32_t>(TRY(num("rcv_space", 0, kU32)));
  s.tcp.notsent_bytes = static_cast<uint32_t>(TRY(num("notsent", 0, kU32)));
  s.tcp.total_retrans = static_cast<uint32_t>(TRY(num("retrans", 0, kU32)));
  s.tcp.inq = static_cast<int>(TRY(num("inq", 0, kInt)));
  s.tcp.outq = static_cast<int>(TRY(num("outq", 0, kInt)));
  s.tcp.outq_unsent = static_cast<int>(TRY(num("outq_unsent", 0, kInt)));
  s.window_full = s.role == "sender" && window_holds(s.tcp) ? 1 : 0;
  s.tcp.sndbuf = static_cast<int>(TRY(num("sndbuf", 0, kInt)));
  s.tcp.rcvbuf = static_cast<int>(TRY(num("rcvbuf", 0, kInt)));
  // Newer fields: a peer that predates them sends none, read as 0.
  auto optional = [&](const char* key, double hi) -> base::Result<double> {
    if (!j.contains(key)) return 0.0;
    return num(key, 0, hi);
  };
  s.cpu_run = TRY(optional("cpu_run", 1));
  s.cpu_wait = TRY(optional("cpu_wait", 1));
  s.cpu_throttled = TRY(optional("cpu_throttled", 1));
  s.cpu_process = TRY(optional("cpu_process", 4096));
  // 2^53: any real buffer, and exact in a double (the report scales it).
  s.app_buffered = static_cast<uint64_t>(TRY(optional("app_buffered", 9007199254740992.0)));
  return s;
}

namespace {

// The share of the interval a side wanted a CPU and did not get one: waiting
// in a run queue, or held back by a cgroup CPU quota.
double starved(const Sample& s) {
  return std::max(s.cpu_wait, s.cpu_throttled);
}

std::string cpu_evidence(const Sample& s) {
  std::string why =
      s.cpu_throttled >= s.cpu_wait * 0.8 && s.cpu_throttled > 0.05
          ? fmt::format(", its cgroup's CPU quota throttled it {}%", pct(s.cpu_throttled))
          : "";
  return fmt::format("{} ran {}% and waited for a CPU {}%{}", s.role, pct(s.cpu_run),
                     pct(s.cpu_wait), why);
}

std::string cpu_advice(const Sample& s, bool starved_now) {
  std::string who = s.role == "sender" ? "sending" : "receiving";
  if (starved_now)
    return fmt::format(
        "the {} machine does not give ferry enough CPU: lift the cgroup CPU quota or move "
        "the competing work off its cores",
        who);
  return fmt::format(
      "the {} program's CPU is the limit (copying{}): a faster CPU helps, the network will not",
      who, s.role == "sender" ? ", hashing, encrypting" : ", verifying, decrypting");
}

}  // namespace

Verdict judge(const std::optional<Sample>& snd, const std::optional<Sample>& rcv) {
  Verdict v{"balanced", "", ""};
  if (!snd && !rcv) {
    v.evidence = "no samples yet";
    return v;
  }
  // Waits, as shares of the interval (off a CPU, inside each stage's calls).
  double src = snd ? snd->source_read : 0;
  double blocked = snd ? snd->socket_send : 0;
  double rwnd = snd ? snd->tcp_rwnd_limited : 0;
  double sndbuf = snd ? snd->tcp_sndbuf_limited : 0;
  double busy = snd ? snd->tcp_busy : 0;
  double sink = rcv ? rcv->sink_write : 0;
  double wait = rcv ? rcv->socket_recv : 0;
  double fill = rcv ? queue_fill(*rcv) : 0;
  double s_starved = snd ? starved(*snd) : 0;
  double r_starved = rcv ? starved(*rcv) : 0;

  std::string rates;
  if (rcv && rcv->sink_write > 0 && rcv->bytes > 0)
    rates = fmt::format(", disk write {}",
                        base::units::rate(static_cast<double>(rcv->bytes) /
                                          (rcv->interval * rcv->sink_write * rcv->streams)));
  auto waited_for_data = [&] {
    return rcv ? fmt::format(", receiver waited {}% for data", pct(wait)) : std::string();
  };

  // 1. Starvation first: a thread that waits for a CPU inside a system call
  // makes that call look slow, so every other share is suspect.
  if (s_starved >= 0.3 && r_starved >= 0.3 && std::abs(s_starved - r_starved) < 0.15) {
    v.evidence =
        fmt::format("both ends wait for a CPU: {}; {}", cpu_evidence(*snd), cpu_evidence(*rcv));
    v.advice =
        "no single stage limits: both ends are short of CPU alike (one quota or one busy "
        "machine); more CPU for both helps";
  } else if (s_starved >= 0.3 && s_starved > r_starved) {
    v.limit = "sender-cpu";
    v.evidence = cpu_evidence(*snd) + waited_for_data();
    v.advice = cpu_advice(*snd, true);
  } else if (r_starved >= 0.3) {
    v.limit = "receiver-cpu";
    v.evidence = cpu_evidence(*rcv) + (snd ? fmt::format(", sender blocked {}%, window {}",
                                                         pct(blocked), window_text(*snd))
                                           : "");
    v.advice = cpu_advice(*rcv, true);
    // 2. A side that waits for its disk or input while its socket runs dry
    // (TCP busy < 80%: nothing queued to send part of the time).
  } else if (snd && src >= 0.5 && busy < 0.8) {
    v.limit = "source-read";
    v.evidence = fmt::format(
        "sender waited {}% of its time for the source, its socket had data "
        "to send {}% of the time{}",
        pct(src), pct(busy), waited_for_data());
    v.advice =
        "the source (disk or input pipe) is the limit: nothing on the network or the receiver will "
        "help";
  } else if (rcv && sink >= 0.5) {
    v.limit = "sink-write";
    v.evidence = fmt::format("receiver waited {}% for its sink, its queue {}% full{}{}", pct(sink),
                             pct(fill), snd ? ", window " + window_text(*snd) : "", rates);
    v.advice = "the receiver's disk or output is the limit: nothing on the network will help";
  } else if (snd && (rwnd >= 0.2 || snd->window_full >= 0.5) && rcv && wait >= 0.3) {
    // The chrono counts a window-limited flow as limited only between ACKs
    // (each ACK opens the window a little and the sender fills it), so a
    // flow the window holds to its rate shows 15-50% here, not 100%; the
    // data in flight, filling the window, shows it more steadily.
    v.limit = "receive-window";
    v.evidence = fmt::format(
        "sender stalled {}% by the receive window ({}), which its data in flight filled {}% of "
        "the time, while the receiver waited {}% for data, its buffer {}",
        pct(rwnd), window_text(*snd), pct(snd->window_full), pct(wait),
        base::units::bytes(static_cast<uint64_t>(rcv->tcp.rcvbuf)));
    v.advice =
        "the receiver's socket buffer is too small for this path: raise net.core.rmem_max / "
        "tcp_rmem on the receiver (or drop its fixed --rcvbuf), or use -P";
    // 3. A side whose busiest thread is on a CPU nearly all the time.
  } else if (rcv && rcv->cpu_run >= 0.8 && (rwnd >= 0.2 || blocked >= 0.5)) {
    v.limit = "receiver-cpu";
    v.evidence = cpu_evidence(*rcv) + fmt::format(
                                          ", its queue {}% full, sender stalled {}% "
                                          "by the window",
                                          pct(fill), pct(rwnd));
    v.advice = cpu_advice(*rcv, false);
  } else if (snd && sndbuf >= 0.2) {  // counted between ACKs, as the window above
    v.limit = "send-buffer";
    v.evidence =
        fmt::format("sender stalled {}% by its send buffer ({}), rtt {} us", pct(sndbuf),
                    base::units::bytes(static_cast<uint64_t>(snd->tcp.sndbuf)), snd->tcp.rtt_us);
    v.advice =
        "the sender's socket buffer is too small for this path: raise net.core.wmem_max / "
        "tcp_wmem on the sender (or drop its fixed --sndbuf), or use -P";
  } else if (snd && (blocked >= 0.5 || (busy - rwnd - sndbuf >= 0.8 && snd->cpu_run < 0.8))) {
    // Blocked on the socket, or a socket that always had data in flight and
    // was held by neither window: the congestion window or the path. (A
    // sender that reads a fast disk while its send buffer drains is blocked
    // less than half the time, yet the network sets the pace.)
    v.limit = "network";
    v.evidence = fmt::format(
        "sender blocked {}% on the socket, data in flight {}% of the time, cwnd {} segments, "
        "rtt {} us, delivery {}, {} retransmits",
        pct(blocked), pct(busy), snd->tcp.snd_cwnd, snd->tcp.rtt_us,
        base::units::rate(static_cast<double>(snd->tcp.delivery_rate)), snd->tcp.total_retrans);
    // Parallel streams share out loss and a slow window's growth; they do
    // nothing for a link at its rate (few retransmits, short RTT).
    bool long_path = snd->tcp.min_rtt_us >= 10000;
    v.advice = long_path && snd->streams < 4
                   ? "the network path is the limit; on this long path, -P 4 can help"
                   : "the network path is the limit: the link is full, nothing at either end "
                     "will help";
  } else if (snd && snd->cpu_run >= 0.8 && (!rcv || wait >= 0.2)) {
    v.limit = "sender-cpu";
    v.evidence = cpu_evidence(*snd) + waited_for_data();
    v.advice = cpu_advice(*snd, false);
  } else {
    v.evidence = fmt::format(
        "no stage dominates: sender ran {}%, waited {}% for the source, {}% on the socket; "
        "receiver ran {}%, waited {}% for data, {}% for the sink",
        pct(snd ? snd->cpu_run : 0), pct(src), pct(blocked), pct(rcv ? rcv->cpu_run : 0), pct(wait),
        pct(sink));
    v.advice = "no single stage limits: the work is spread over both machines' CPUs and I/O";
  }
  return v;
}

void SampleAverage::add(const Sample& s) {
  double w = s.interval;
  if (w <= 0) return;
  if (weight_ == 0) sum_ = Sample{s.role};
  weight_ += w;
  sum_.interval += w;
  sum_.bytes += s.bytes;
  sum_.streams = s.streams;
  sum_.t = s.t;
  sum_.source_read += s.source_read * w;
  sum_.socket_send += s.socket_send * w;
  sum_.socket_recv += s.socket_recv * w;
  sum_.sink_write += s.sink_write * w;
  sum_.tcp_busy += s.tcp_busy * w;
  sum_.tcp_rwnd_limited += s.tcp_rwnd_limited * w;
  sum_.tcp_sndbuf_limited += s.tcp_sndbuf_limited * w;
  sum_.cpu_run += s.cpu_run * w;
  sum_.cpu_wait += s.cpu_wait * w;
  sum_.cpu_throttled += s.cpu_throttled * w;
  sum_.cpu_process += s.cpu_process * w;
  sum_.window_full += s.window_full * w;
  inq_ += s.tcp.inq * w;
  outq_ += s.tcp.outq * w;
  snd_wnd_ += s.tcp.snd_wnd * w;
  app_buffered_ += static_cast<double>(s.app_buffered) * w;
  sum_.tcp = s.tcp;  // the latest snapshot stands for the whole
}

std::optional<Sample> SampleAverage::average() const {
  if (weight_ == 0) return std::nullopt;
  Sample a = sum_;
  a.source_read /= weight_;
  a.socket_send /= weight_;
  a.socket_recv /= weight_;
  a.sink_write /= weight_;
  a.tcp_busy /= weight_;
  a.tcp_rwnd_limited /= weight_;
  a.tcp_sndbuf_limited /= weight_;
  a.cpu_run /= weight_;
  a.cpu_wait /= weight_;
  a.cpu_throttled /= weight_;
  a.cpu_process /= weight_;
  a.window_full /= weight_;
  a.tcp.inq = static_cast<int>(inq_ / weight_);
  a.tcp.outq = static_cast<int>(outq_ / weight_);
  a.tcp.snd_wnd = static_cast<uint32_t>(snd_wnd_ / weight_);
  a.app_buffered = static_cast<uint64_t>(app_buffered_ / weight_);
  return a;
}

}  // namespace ferry
