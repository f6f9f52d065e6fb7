#include "ferry/monitor.h"

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"

namespace ferry {

Monitor::Monitor(std::string role, Counters& counters, std::chrono::milliseconds interval)
    : role_(std::move(role)), counters_(counters), interval_(interval) {}

Monitor::~Monitor() {
  stop();
  if (trace_) std::fclose(trace_);
}

base::Status Monitor::open_trace(const std::string& path) {
  trace_ = TRY(base::sys::fopen(path, "w", "trace file " + path));
  return {};
}

void Monitor::watch_streams(Channel& primary, const std::vector<Channel*>& extra) {
  channels_.clear();
  channels_.push_back(&primary);
  channels_.insert(channels_.end(), extra.begin(), extra.end());
  for (Channel* c : channels_) c->set_stage_times(&counters_.stages);
}

void Monitor::start() {
  if (thread_.joinable()) return;
  started_ = last_ = std::chrono::steady_clock::now();
  last_bytes_ = counters_.bytes_moved;
  for (size_t i = 0; i < static_cast<size_t>(Stage::kCount); ++i)
    last_stage_[i] = counters_.stages.waited(static_cast<Stage>(i));
  cpu_.emplace();
  for (Channel* c : channels_) {
    if (auto s = net::read_tcp_stats(c->transport().socket_fd())) {
      last_busy_ += s->busy_us;
      last_rwnd_ += s->rwnd_limited_us;
      last_sndbuf_ += s->sndbuf_limited_us;
    }
  }
  thread_ = std::thread([this] { loop(); });
}

void Monitor::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  take_sample();  // the partial last interval
}

void Monitor::loop() {
  std::unique_lock lock(wake_mu_);
  while (!wake_.wait_for(lock, interval_, [&] { return stopping_; })) {
    lock.unlock();
    take_sample();
    lock.lock();
  }
}

void Monitor::take_sample() {
  auto now = std::chrono::steady_clock::now();
  double dt = std::chrono::duration<double>(now - last_).count();
  if (dt < 0.01) return;  // too short to mean anything
  Sample s;
  s.role = role_;
  s.t = std::chrono::duration<double>(now - started_).count();
  s.interval = dt;
  s.streams = static_cast<uint32_t>(std::max<size_t>(1, channels_.size()));
  uint64_t bytes = counters_.bytes_moved;
  s.bytes = bytes - last_bytes_;
  last_bytes_ = bytes;
  // A share is of the time of the threads at work in the stage: each
  // stream has a thread of its own that reads it (receiver) or writes it
  // (sender); the sender reads its source in one thread.
  double per_stream = dt * 1e9 * s.streams, per_thread = dt * 1e9;
  // A call is counted when it returns, so one that blocked across several
  // intervals lands in the last. Cap each share at the whole interval and
  // carry the excess into the next: shares stay within 0..1, totals exact.
  auto delta = [&](Stage st, double per) {
    auto i = static_cast<size_t>(st);
    // Time waited in the stage (off a CPU); the totals may step back by a
    // clock tick when a short call's CPU time reads longer than its wall time.
    uint64_t v = counters_.stages.waited(st);
    double d =
        std::max(0.0, static_cast<double>(v) - static_cast<double>(last_stage_[i])) + carry_[i];
    last_stage_[i] = v;
    carry_[i] = std::max(0.0, d - per);
    return std::min(d, per) / per;
  };
  s.source_read = delta(Stage::kSourceRead, per_thread);
  s.socket_send = delta(Stage::kSocketSend, per_stream);
  s.socket_recv = delta(Stage::kSocketRecv, per_stream);
  s.sink_write =
      std::min(1.0, delta(Stage::kSinkWrite, per_stream) + delta(Stage::kSinkSync, per_stream));
  uint64_t busy = 0, rwnd = 0, sndbuf = 0;
  bool first = true;
  for (Channel* c : channels_) {
    s.app_buffered += c->buffered_in() + c->buffered_out();
    auto t = net::read_tcp_stats(c->transport().socket_fd());
    if (!t) continue;
    busy += t->busy_us;
    rwnd += t->rwnd_limited_us;
    sndbuf += t->sndbuf_limited_us;
    s.tcp = first ? *t : net::combine(s.tcp, *t);
    first = false;
  }
  double per_us = dt * 1e6 * s.streams;
  s.tcp_busy = static_cast<double>(busy - std::min(busy, last_busy_)) / per_us;
  s.tcp_rwnd_limited = static_cast<double>(rwnd - std::min(rwnd, last_rwnd_)) / per_us;
  s.tcp_sndbuf_limited = static_cast<double>(sndbuf - std::min(sndbuf, last_sndbuf_)) / per_us;
  s.window_full = s.role == "sender" && window_holds(s.tcp) ? 1 : 0;
  last_busy_ = busy;
  last_rwnd_ = rwnd;
  last_sndbuf_ = sndbuf;
  if (cpu_) {
    CpuShares cpu = cpu_->sample(dt);
    s.cpu_run = cpu.busiest_run;
    s.cpu_wait = cpu.busiest_wait;
    s.cpu_throttled = cpu.throttled;
    s.cpu_process = cpu.process;
  }
  last_ = now;
  record(s, /*local=*/true);
  if (publish_) publish_(s);
}

void Monitor::record(const Sample& s, bool local) {
  std::lock_guard lock(mu_);
  (local ? local_ : peer_) = s;
  (local ? local_avg_ : peer_avg_).add(s);
  if (trace_) {
    nlohmann::json j = s.to_json();
    j["from"] = local ? "local" : "peer";
    if (local) {
      // The verdict with what this side knew at the time.
      bool sender = role_ == "sender";
      Verdict v = judge(sender ? local_ : peer_, sender ? peer_ : local_);
      j["verdict"] = v.limit;
      j["evidence"] = v.evidence;
    }
    std::string line = j.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), trace_);
    std::fflush(trace_);
  }
}

void Monitor::add_peer(const Sample& s) {
  record(s, /*local=*/false);
}

std::pair<std::optional<Sample>, std::optional<Sample>> Monitor::latest() const {
  std::lock_guard lock(mu_);
  if (role_ == "sender") return {local_, peer_};
  return {peer_, local_};
}

Verdict Monitor::current() const {
  std::lock_guard lock(mu_);
  bool sender = role_ == "sender";
  return judge(sender ? local_ : peer_, sender ? peer_ : local_);
}

Verdict Monitor::overall() const {
  std::lock_guard lock(mu_);
  bool sender = role_ == "sender";
  auto l = local_avg_.average(), p = peer_avg_.average();
  return judge(sender ? l : p, sender ? p : l);
}

nlohmann::json Monitor::summary() const {
  Verdict v = overall();
  std::lock_guard lock(mu_);
  bool sender = role_ == "sender";
  auto l = local_avg_.average(), p = peer_avg_.average();
  auto snd = sender ? l : p, rcv = sender ? p : l;
  nlohmann::json shares = nlohmann::json::object();
  if (snd) {
    shares["sender_source_read"] = snd->source_read;
    shares["sender_socket_blocked"] = snd->socket_send;
    shares["sender_cpu"] = snd->cpu_run;
    shares["sender_cpu_wait"] = snd->cpu_wait;
    shares["sender_cpu_throttled"] = snd->cpu_throttled;
    shares["tcp_rwnd_limited"] = snd->tcp_rwnd_limited;
    shares["tcp_sndbuf_limited"] = snd->tcp_sndbuf_limited;
  }
  if (rcv) {
    shares["receiver_socket_wait"] = rcv->socket_recv;
    shares["receiver_sink_write"] = rcv->sink_write;
    shares["receiver_cpu"] = rcv->cpu_run;
    shares["receiver_cpu_wait"] = rcv->cpu_wait;
    shares["receiver_cpu_throttled"] = rcv->cpu_throttled;
  }
  return {
      {"bottleneck", v.limit}, {"evidence", v.evidence}, {"advice", v.advice}, {"shares", shares}};
}

}  // namespace ferry
