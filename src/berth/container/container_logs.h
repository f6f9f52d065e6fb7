// A container's log (<dir>/log, written by its monitor: one JSON object a
// line, {"stream","time","log"}, each line at most 16 KiB of output), read
// in bounded pieces: however large the log, a reader holds at most one
// piece (about 1 MiB) and `--tail N` reads only the end of the file.
// Thread-safety: reads only; the monitor appends concurrently, and a line
// still being written is left for the next read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

struct LogLine {
  std::string stream;  // stdout | stderr
  std::string time;    // RFC 3339, when the monitor read it
  std::string text;    // with its newline
};

// The complete lines from byte `*offset` on, at most about `max_bytes` of
// the file (at least one line when one is complete); `*offset` moves past
// them. An offset that did not move means nothing more is there yet.
base::Result<std::vector<LogLine>> read_logs(const Paths& p, const std::string& id_or_name,
                                             uint64_t* offset, size_t max_bytes = size_t{1} << 20);
// The offset at which the last `lines` complete lines start (0 when the log
// has fewer), found by reading backwards from the end.
base::Result<uint64_t> log_tail_offset(const Paths& p, const std::string& id_or_name,
                                       uint64_t lines);

}  // namespace berth
