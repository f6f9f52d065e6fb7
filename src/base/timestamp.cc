#include "base/timestamp.h"

#include <time.h>

#include <chrono>

#include <fmt/format.h>

namespace base {

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  time_t t = static_cast<time_t>(secs.count());
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09}Z", buf, nanos);
}

}  // namespace base
