// A container's log files and their rotation, docker's json-file driver
// with --log-opt max-size and max-file: the monitor appends to <dir>/log;
// once that holds max-size bytes or more, before the next line, it becomes
// log.1 (log.1 becomes log.2 ..., the oldest beyond max-file - 1 rotated
// files is deleted; with max-file 1 the log is simply deleted) and a new
// log begins. Lines are never split across files. Without max-size the log
// grows without a bound, as docker's does.
// Thread-safety: LogWriter is the monitor's, one per life of a container;
// readers (container_logs.h) follow it by inode across renames.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

// The most files a log is kept in (max-file's bound; what a reader opens).
constexpr int kMostLogFiles = 1000;

struct LogLimits {
  uint64_t max_size = 0;  // bytes; 0: no rotation
  int max_files = 1;      // the log and max_files - 1 rotated files
};

// docker's --log-opt KEY=VALUE for json-file: max-size (a size such as
// 10m, above 0), max-file (1 or more, only with max-size), compress=false,
// mode=blocking. Any other key or value is an error naming it.
base::Result<LogLimits> parse_log_options(const std::map<std::string, std::string>& opts);

// The log file of `dir` with rotation number `n` (0: the one written now).
std::string log_file(const std::string& dir, int n);

class LogWriter {
 public:
  static base::Result<LogWriter> open(const std::string& dir, const LogLimits& limits);
  // Appends one whole line (rotating first when the log is full). A line
  // that cannot be written is lost, never an error: the log must not stop
  // the container.
  void append(const std::string& line);

 private:
  LogWriter(std::string dir, LogLimits limits) : dir_(std::move(dir)), limits_(limits) {}
  void rotate();
  std::string dir_;
  LogLimits limits_;
  base::UniqueFd fd_;
  uint64_t size_ = 0;
};

}  // namespace berth
