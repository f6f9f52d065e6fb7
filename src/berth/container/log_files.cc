#include "berth/container/log_files.h"

#include <fcntl.h>

#include <charconv>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/units.h"

namespace berth {

base::Result<LogLimits> parse_log_options(const std::map<std::string, std::string>& opts) {
  LogLimits limits;
  bool max_file_given = false;
  for (const auto& [key, value] : opts) {
    if (key == "max-size") {
      auto bytes = base::units::parse_size(value);
      if (!bytes) return base::fail_msg(fmt::format("--log-opt max-size='{}': not a size", value));
      if (*bytes == 0) return base::fail_msg("--log-opt max-size: must be a positive number");
      limits.max_size = *bytes;
    } else if (key == "max-file") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMostLogFiles)
        return base::fail_msg(
            fmt::format("--log-opt max-file='{}': a count from 1 to {}", value, kMostLogFiles));
      limits.max_files = n;
      max_file_given = true;
    } else if (key == "compress") {
      if (value != "false")
        return base::fail_msg(
            fmt::format("--log-opt compress='{}': berth keeps rotated logs uncompressed", value));
    } else if (key == "mode") {
      if (value != "blocking")
        return base::fail_msg(fmt::format(
            "--log-opt mode='{}': berth's log is always written as it comes (blocking)", value));
    } else {
      return base::fail_msg(
          fmt::format("--log-opt '{}': unknown for berth's json-file log (max-size, max-file, "
                      "compress=false and mode=blocking are known)",
                      key));
    }
  }
  if (limits.max_size == 0 && max_file_given) limits.max_files = 1;  // docker ignores it then
  return limits;
}

std::string log_file(const std::string& dir, int n) {
  return n == 0 ? dir + "/log" : fmt::format("{}/log.{}", dir, n);
}

base::Result<LogWriter> LogWriter::open(const std::string& dir, const LogLimits& limits) {
  LogWriter w(dir, limits);
  w.fd_ = TRY(base::sys::open(log_file(dir, 0), O_WRONLY | O_CREAT | O_APPEND, 0600));
  w.size_ = static_cast<uint64_t>(TRY(base::sys::fstat(w.fd_.get())).st_size);
  return w;
}

void LogWriter::rotate() {
  // Oldest first, so no rename replaces a file still to be moved.
  (void)base::sys::unlinkat(AT_FDCWD, log_file(dir_, limits_.max_files - 1), 0);
  for (int n = limits_.max_files - 2; n >= 0; --n)
    (void)base::sys::renameat(AT_FDCWD, log_file(dir_, n), AT_FDCWD, log_file(dir_, n + 1));
  fd_.reset();
  size_ = 0;
  if (auto fd = base::sys::open(log_file(dir_, 0), O_WRONLY | O_CREAT | O_APPEND, 0600))
    fd_ = std::move(*fd);
}

void LogWriter::append(const std::string& line) {
  if (limits_.max_size > 0 && size_ >= limits_.max_size) rotate();
  if (!fd_) return;
  if (base::sys::write_all(fd_.get(), line.data(), line.size())) size_ += line.size();
}

}  // namespace berth
