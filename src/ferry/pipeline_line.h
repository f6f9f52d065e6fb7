// The live pipeline line: a transfer's seven stages (pipeline_stages.h) in
// one line of text, each with its headline share of the latest interval and
// the stage the verdict names in brackets, e.g.
//   src 0% ▸ ferry 3% ▸ sndq 90% ▸ net 4% rtt 17 ms ▸ rcvq 0% win 0 B ▸ ferry 2% buf 8.0 MiB ▸
//   [sink 99%]
// src/sink: time waited for the source / sink; ferry: its busiest thread's
// time on a CPU (with "wait N%" or "throttled N%" when it was kept from
// one); sndq/rcvq: the socket queue's fill (rcvq with the window the
// receiver advertised); net: the share only the congestion window held back,
// and the RTT; buf: the receiving ferry's own backlog. A side whose sample is
// missing shows its stages' names only; "balanced" brackets nothing.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/diagnosis.h"

namespace ferry {

// Never wider than `width` columns: the details after each share go first,
// then the end of the line.
std::string pipeline_line(const std::optional<Sample>& sender,
                          const std::optional<Sample>& receiver, std::string_view limit,
                          size_t width = 160);

// Terminal columns of UTF-8 text, one per code point (ferry prints no wide
// characters), and the longest prefix of whole code points that fits.
size_t text_columns(std::string_view text);
std::string cut_to_columns(std::string_view text, size_t width);

}  // namespace ferry
