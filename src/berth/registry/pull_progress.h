// What `berth pull` shows while layers download: on a terminal, one line per
// layer with a bar, redrawn in place at most ten times a second; otherwise
// (a log, a pipe) one line per layer when its state changes; or nothing.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace berth {

class PullProgress {
 public:
  enum class Mode { kBars, kLines, kQuiet };
  // kBars when `out` is a terminal, else kLines; kQuiet when `quiet`.
  static Mode mode_for(std::FILE* out, bool quiet);
  PullProgress(std::FILE* out, Mode mode);

  // A new line for `label` (a short digest); returns its slot.
  size_t add(const std::string& label, uint64_t total_bytes);
  void set_state(size_t slot, const std::string& state);  // "waiting", "pull complete"...
  void advance(size_t slot, uint64_t bytes);
  // Draws the final picture.
  void finish();

 private:
  struct Line {
    std::string label;
    std::string state;
    uint64_t total = 0;
    uint64_t done = 0;
  };
  void draw_locked(bool force);
  std::string render(const Line& l) const;

  std::FILE* out_;
  Mode mode_;
  std::mutex mu_;
  std::vector<Line> lines_;
  size_t drawn_ = 0;  // lines on screen from the last redraw
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace berth
