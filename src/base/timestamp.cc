#include "base/timestamp.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

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

std::optional<int64_t> parse_rfc3339(const std::string& text) {
  struct tm tm {};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  if (*end == '.')
    for (++end; *end >= '0' && *end <= '9';) ++end;
  if (*end == 'Z') ++end;
  if (*end != '\0') return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

std::optional<double> parse_docker_since(const std::string& text, double now) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (auto t = parse_rfc3339(text)) {
    auto dot = text.find('.');
    double fraction = dot == std::string::npos ? 0 : std::strtod(text.c_str() + dot, nullptr);
    return static_cast<double>(*t) + fraction;
  }
  struct tm tm {};
  if (const char* end = ::strptime(text.c_str(), "%Y-%m-%d", &tm); end && *end == '\0')
    return static_cast<double>(::timegm(&tm));
  if (text.find_first_not_of("0123456789.") == std::string::npos &&
      std::count(text.begin(), text.end(), '.') <= 1 && text.front() != '.')
    return std::strtod(text.c_str(), nullptr);
  auto ago = parse_go_duration(text);
  if (!ago) return std::nullopt;
  return now - *ago;
}

std::optional<double> parse_go_duration(const std::string& text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double n = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t unit = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string u = text.substr(unit, i - unit);
    double scale = u == "h"    ? 3600
                   : u == "m"  ? 60
                   : u == "s"  ? 1
                   : u == "ms" ? 1e-3
                   : u == "us" ? 1e-6
                   : u == "ns" ? 1e-9
                               : -1;
    if (scale < 0) return std::nullopt;
    total += n * scale;
  }
  return total;
}

std::string human_duration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  int64_t hours = (seconds + 1800) / 3600;  // rounded, as go-units does
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < int64_t{24} * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < int64_t{24} * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < int64_t{24} * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", seconds / 3600 / 24 / 365);
}

std::string docker_time(const std::string& rfc3339) {
  auto secs = parse_rfc3339(rfc3339);
  if (!secs) return "";
  time_t t = static_cast<time_t>(*secs);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

}  // namespace base
