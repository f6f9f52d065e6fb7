#include "ferry/compression_policy.h"

#include <algorithm>

#include "ferry/messages.h"

namespace ferry {

uint32_t request_flags_for(CompressMode mode) {
  switch (mode) {
    case CompressMode::kOff:
      return 0;
    case CompressMode::kOn:
      return kFlagCompress;
    case CompressMode::kAuto:
      return kFlagCompress | kFlagCompressAuto;
  }
  return 0;
}

CompressMode compress_mode_of(uint32_t request_flags) {
  if (!(request_flags & kFlagCompress)) return CompressMode::kOff;
  return (request_flags & kFlagCompressAuto) ? CompressMode::kAuto : CompressMode::kOn;
}

const char* name_of(CompressMode mode) {
  switch (mode) {
    case CompressMode::kOff:
      return "off";
    case CompressMode::kOn:
      return "on";
    case CompressMode::kAuto:
      return "auto";
  }
  return "?";
}

CompressionPolicy::CompressionPolicy(CompressMode mode)
    : mode_(mode), active_(mode == CompressMode::kOn) {}

void CompressionPolicy::observe(const Verdict& verdict, const Sample& sender) {
  if (mode_ != CompressMode::kAuto || seen(sender)) return;
  last_sample_t_ = sender.t;
  bool wire_bound = verdict.limit == "network" || verdict.limit == "send-buffer";
  if (active_) {
    if (verdict.limit == "sender-cpu") pause();  // compressing costs more than it saves
    return;
  }
  if (pause_left_ == 0 && wire_bound && sender.cpu_run < kIdleCpu) {
    active_ = true;
    judged_raw_ = judged_wire_ = 0;
  }
}

void CompressionPolicy::pause() {
  active_ = false;
  pause_left_ = next_pause_;
  next_pause_ = std::min<uint64_t>(next_pause_ * 2, kLongestPause);
}

void CompressionPolicy::record(uint64_t raw, uint64_t wire) {
  if (mode_ != CompressMode::kAuto) return;
  if (!active_) {
    pause_left_ -= std::min(pause_left_, raw);
    return;
  }
  judged_raw_ += raw;
  judged_wire_ += wire;
  if (judged_raw_ < kJudgeBytes) return;
  if (static_cast<double>(judged_wire_) > kPoorRatio * static_cast<double>(judged_raw_)) {
    pause();  // the data does not shrink: not worth the CPU
  }
  judged_raw_ = judged_wire_ = 0;
}

}  // namespace ferry
