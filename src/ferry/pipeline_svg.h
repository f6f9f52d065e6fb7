// The report's pipeline diagram: one inline SVG of a transfer's seven stages
// (pipeline_stages.h) as boxes in the order the bytes pass them, joined by
// arrows. Each box shows, over the whole trace, the stage's throughput, its
// headline share as a number and a bar (time waited for the source or the
// sink; a program's time on a CPU, with the time it was kept from one
// stacked in red; a socket queue's fill), the numbers behind it, and
// sparklines of the same over time: queue fill against the buffer's size,
// the window the receiver advertised, each program's own buffer. The stage
// the whole-transfer verdict names gets a heavy red border, the verdict's
// colour and "limit: WORD" above it. Markup: every box is
// <g class="stage" data-stage="ID">; the limiting one also has class
// "limit" and data-limit="WORD". No scripts; tooltips are SVG <title>s.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "ferry/diagnosis.h"

namespace ferry {

// `senders` and `receivers`: the trace's samples of each side, in time
// order (either may be empty); `limit`: the whole-transfer verdict.
std::string pipeline_svg(const std::vector<Sample>& senders, const std::vector<Sample>& receivers,
                         const std::string& limit);

}  // namespace ferry
