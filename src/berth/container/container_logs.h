// A container's log (written by its monitor, log_files.h: one JSON object
// a line, {"stream","time","log"}, each line at most 16 KiB of output, in
// <dir>/log and, rotated, log.1 ... log.N), read in bounded pieces: however
// large the log, a reader holds at most one piece (about 1 MiB), and
// `--tail N` reads only the end.
// The reader follows rotation: it holds each file open, so a file renamed
// while it reads is finished first, and it knows by inode which files are
// newer than the one it is in, so no line is read twice or skipped (lines
// the writer deleted before they were read are gone, as in docker).
// Thread-safety: one thread per reader; the monitor appends concurrently,
// and a line still being written is left for the next read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "berth/container/container_record.h"

namespace berth {

struct LogLine {
  std::string stream;  // stdout | stderr
  std::string time;    // RFC 3339, when the monitor read it
  std::string text;    // with its newline
};

class LogReader {
 public:
  // At the start of the oldest line kept, or with `tail` >= 0 at the start
  // of the last `tail` complete lines (across rotated files).
  static base::Result<LogReader> open(const Paths& p, const std::string& id_or_name,
                                      int64_t tail = -1);
  // The complete lines from where it is, at most about `max_bytes` (at
  // least one line when one is complete). Empty: nothing more yet.
  base::Result<std::vector<LogLine>> next(size_t max_bytes = size_t{1} << 20);

 private:
  struct Source {
    base::UniqueFd fd;
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t offset = 0;
  };
  explicit LogReader(std::string dir) : dir_(std::move(dir)) {}
  // Opens rotation number `n`; false when it is not there.
  base::Result<bool> add(int n, bool at_front);
  // After the last file is read to its end: queues the files written
  // since it was rotated away (or the log, when there was none); false
  // when nothing changed.
  base::Result<bool> follow_rotation();

  std::string dir_;
  std::deque<Source> sources_;  // oldest first; the front is read now
};

}  // namespace berth
