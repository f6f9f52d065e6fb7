// What each box of the report's pipeline diagram (pipeline_svg.h) says,
// from a trace's samples: the stage's throughput, its headline share in
// words and as a bar, the numbers behind it, a tooltip, and the sparklines
// to draw over the transfer's time axis. Whole-transfer figures are
// interval-weighted means over the samples of the side the stage belongs
// to (the sender's up to the network, the receiver's after it). How it is
// drawn is pipeline_svg's business; this says only what and of which kind.
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/diagnosis.h"
#include "ferry/pipeline_stages.h"

namespace ferry {

using SampleMeasure = std::function<double(const Sample&)>;

// What a share is of, which decides its colour.
enum class ShareKind { kWait, kCpu, kQueue, kNetwork };

struct StageBar {
  double share = 0;    // the headline share, 0..1
  double starved = 0;  // programs: kept from a CPU, drawn after `share`
  ShareKind kind = ShareKind::kWait;
};

// A measure over time, `value(sample) / scale` in 0..1, and for programs a
// second line, `red`, on the same scale (the time kept from a CPU).
struct StageSpark {
  std::string caption;
  SampleMeasure value;
  double scale = 1;
  ShareKind kind = ShareKind::kQueue;
  SampleMeasure red;  // may be empty
};

struct StageBox {
  std::string rate;      // "8.81 MB/s", or "no samples"
  std::string headline;  // "waited 96%", "full 86%", "on a CPU 2%", ...
  std::vector<std::string> details;
  std::string tooltip;
  std::optional<StageBar> bar;
  std::vector<StageSpark> sparks;
  // The samples the sparklines are drawn from (the stage's side): points
  // into stage_box()'s arguments.
  const std::vector<Sample>* samples = nullptr;
};

StageBox stage_box(PipeStage stage, const std::vector<Sample>& senders,
                   const std::vector<Sample>& receivers);

// The largest of `f` over `v`; 0 when empty.
double max_of(const std::vector<Sample>& v, const SampleMeasure& f);

}  // namespace ferry
