#include "berth/registry/pull_progress.h"

#include <unistd.h>

#include <fmt/format.h>

#include "base/units.h"

namespace berth {

PullProgress::Mode PullProgress::mode_for(std::FILE* out, bool quiet) {
  if (quiet) return Mode::kQuiet;
  return ::isatty(::fileno(out)) ? Mode::kBars : Mode::kLines;
}

PullProgress::PullProgress(std::FILE* out, Mode mode) : out_(out), mode_(mode) {}

size_t PullProgress::add(const std::string& label, uint64_t total_bytes) {
  std::lock_guard lock(mu_);
  lines_.push_back(Line{label, "waiting", total_bytes, 0});
  return lines_.size() - 1;
}

void PullProgress::set_state(size_t slot, const std::string& state) {
  std::lock_guard lock(mu_);
  Line& l = lines_.at(slot);
  if (l.state == state) return;
  l.state = state;
  if (mode_ == Mode::kLines && state != "waiting" && state != "downloading") {
    std::fprintf(out_, "%s\n", render(l).c_str());
    std::fflush(out_);
  }
  draw_locked(true);
}

void PullProgress::advance(size_t slot, uint64_t bytes) {
  std::lock_guard lock(mu_);
  lines_.at(slot).done += bytes;
  draw_locked(false);
}

void PullProgress::finish() {
  std::lock_guard lock(mu_);
  draw_locked(true);
}

std::string PullProgress::render(const Line& l) const {
  if (l.state != "downloading") return fmt::format("{}: {}", l.label, l.state);
  constexpr int kWidth = 30;
  int filled =
      l.total ? static_cast<int>(kWidth * std::min<double>(1.0, double(l.done) / double(l.total)))
              : 0;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  return fmt::format("{}: downloading [{}] {} / {}", l.label, bar, base::units::bytes(l.done),
                     base::units::bytes(l.total));
}

void PullProgress::draw_locked(bool force) {
  if (mode_ != Mode::kBars) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string frame;
  if (drawn_ > 0) frame += fmt::format("\x1b[{}A", drawn_);  // back to the first line
  for (const auto& l : lines_) frame += "\x1b[2K" + render(l) + "\n";
  drawn_ = lines_.size();
  std::fwrite(frame.data(), 1, frame.size(), out_);
  std::fflush(out_);
}

}  // namespace berth
