// CompressionPolicy: whether a sync's sender compresses its next chunk.
//
// kOn (-z) always compresses; kOff (--no-compress) never does. kAuto, the
// default, follows the diagnosis: compression goes on while the live
// verdict says the network (or the socket's send buffer) is the limit and
// the sender's busiest thread has CPU to spare, and off again when the
// sender's CPU becomes the limit or the data does not shrink by a tenth;
// then it stays off for a stretch of data (64 MiB, doubling each time up to
// 4 GiB) before it may try again. Each
// chunk's outcome is recorded, so the summary can say what was done.
// Thread-safety: one thread (the sender's).
#pragma once

#include <cstdint>
#include <string>

#include "ferry/diagnosis.h"

namespace ferry {

enum class CompressMode : uint8_t { kOff, kOn, kAuto };

// A sync request's flags for a mode (kFlagCompress, kFlagCompressAuto), and
// back.
uint32_t request_flags_for(CompressMode mode);
CompressMode compress_mode_of(uint32_t request_flags);
// "off", "on" or "auto".
const char* name_of(CompressMode mode);

class CompressionPolicy {
 public:
  explicit CompressionPolicy(CompressMode mode = CompressMode::kOff);

  CompressMode mode() const { return mode_; }
  // Whether the next chunk is to be compressed.
  bool active() const { return active_; }
  // A new live verdict and the sender's latest sample (kAuto only; a
  // sample already seen, by its time, is ignored).
  void observe(const Verdict& verdict, const Sample& sender);
  bool seen(const Sample& sender) const { return sender.t == last_sample_t_; }
  // A chunk sent: `raw` bytes of data, `wire` bytes of it on the wire
  // (`wire` == `raw` when it went uncompressed).
  void record(uint64_t raw, uint64_t wire);

  // Share of the data's bytes at which compression gave up (wire/raw).
  static constexpr double kPoorRatio = 0.9;
  // Bytes a poor ratio is judged over, and the first pause after it.
  static constexpr uint64_t kJudgeBytes = 16ull << 20;
  static constexpr uint64_t kFirstPause = 64ull << 20;
  static constexpr uint64_t kLongestPause = 4ull << 30;
  // The busiest sender thread's share of a CPU under which it has room.
  static constexpr double kIdleCpu = 0.6;

 private:
  void pause();

  CompressMode mode_;
  bool active_;
  double last_sample_t_ = -1;
  uint64_t judged_raw_ = 0, judged_wire_ = 0;  // since compression last went on
  uint64_t pause_left_ = 0;                    // raw bytes before trying again
  uint64_t next_pause_ = kFirstPause;
};

}  // namespace ferry
