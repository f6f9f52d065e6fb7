#include "ferry/progress.h"

#include <unistd.h>

#include <fmt/format.h>

#include "base/units.h"
#include "ferry/pipeline_line.h"

namespace ferry {
namespace {

constexpr size_t kColumns = 160;  // the widest line drawn

}  // namespace

ProgressDisplay::ProgressDisplay(const Counters& counters, bool enabled,
                                 std::chrono::milliseconds interval)
    : counters_(counters), enabled_(enabled && isatty(STDERR_FILENO)), interval_(interval) {}

ProgressDisplay::~ProgressDisplay() {
  stop();
}

void ProgressDisplay::start() {
  if (!enabled_ || running_) return;
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void ProgressDisplay::stop() {
  if (!running_) return;
  running_ = false;
  thread_.join();
  std::string clear = "\r\033[K\n\033[K\n\033[K\033[2A";
  (void)!write(STDERR_FILENO, clear.data(), clear.size());
}

void ProgressDisplay::loop() {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto last = start;
  uint64_t last_bytes = 0;
  double rate = 0;
  while (running_) {
    std::this_thread::sleep_for(interval_);
    auto now = clock::now();
    uint64_t bytes = counters_.bytes_moved + counters_.bytes_skipped;
    double dt = std::chrono::duration<double>(now - last).count();
    double inst = dt > 0 ? static_cast<double>(bytes - last_bytes) / dt : 0;
    rate = rate == 0 ? inst : 0.7 * rate + 0.3 * inst;  // smooth, but follow changes
    last = now;
    last_bytes = bytes;
    uint64_t planned = counters_.bytes_planned;
    std::string eta = "";
    if (counters_.walk_finished && rate > 0 && planned > bytes)
      eta = " ETA " + base::units::duration(static_cast<double>(planned - bytes) / rate);
    std::string pct = planned > 0 ? fmt::format("{:5.1f}% ", 100.0 * bytes / planned) : "";
    std::string line = fmt::format("\r\033[K{}{} / {}  {}{}  files {}/{}{}", pct,
                                   base::units::bytes(bytes), base::units::bytes(planned),
                                   base::units::rate(rate), eta, counters_.files_done.load(),
                                   counters_.files_seen.load(), counters_.walk_finished ? "" : "+");
    // The pipeline with each stage's share, and the verdict, from one pair
    // of samples.
    std::string pipeline = pipeline_line(std::nullopt, std::nullopt, "", kColumns);
    std::string verdict = "limit: measuring...";
    if (const Monitor* m = monitor_.load()) {
      auto [snd, rcv] = m->latest();
      Verdict v = judge(snd, rcv);
      pipeline = pipeline_line(snd, rcv, v.limit, kColumns);
      verdict = fmt::format("limit: {} — {}", v.limit, v.evidence);
    }
    line += "\n\033[K" + pipeline + "\n\033[K" + cut_to_columns(verdict, kColumns) + "\033[2A\r";
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }
}

}  // namespace ferry
