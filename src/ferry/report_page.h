// The `ferry report` page: turns a --trace file (JSON Lines of both ends'
// samples) into one self-contained HTML page. The whole-transfer verdict
// with its evidence and advice heads it; under it, the pipeline diagram
// (pipeline_svg.h) with the stage the verdict names marked; then inline SVG
// charts on a shared time axis: throughput; congestion window; the peer's
// window, the send and receive queues and the receiving ferry's own buffer;
// time waited in each stage; each side's CPU. The verdict of every interval
// shades the charts' background. No scripts, no external resources: it
// opens offline.
// Thread-safety: pure function.
#pragma once

#include <string>

#include "base/error.h"

namespace ferry {

// `trace_text` is the trace file's content; `name` labels errors and the page.
base::Result<std::string> render_report_page(const std::string& trace_text,
                                             const std::string& name);

}  // namespace ferry
