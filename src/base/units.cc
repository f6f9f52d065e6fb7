#include "base/units.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace base::units {

std::string bytes(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", n);
  return fmt::format("{:.{}f} {}", v, v < 10 ? 2 : v < 100 ? 1 : 0, kUnits[u]);
}

std::string go_size(double bytes, bool binary, int precision) {
  static const char* const kBinary[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  static const char* const kDecimal[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double base = binary ? 1024 : 1000;
  size_t i = 0;
  while (bytes >= base && i < 5) {
    bytes /= base;
    ++i;
  }
  return fmt::format("{:.{}g}{}", bytes, precision, binary ? kBinary[i] : kDecimal[i]);
}

std::string rate(double bps) {
  static const char* kUnits[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  int u = 0;
  while (bps >= 1000.0 && u < 4) {
    bps /= 1000.0;
    ++u;
  }
  return fmt::format("{:.{}f} {}", bps, bps < 10 ? 2 : bps < 100 ? 1 : 0, kUnits[u]);
}

std::string duration(double s) {
  if (s < 1.0) return fmt::format("{}ms", static_cast<int>(std::lround(s * 1000)));
  if (s < 60.0) return fmt::format("{:.1f}s", s);
  auto total = static_cast<long>(std::lround(s));
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string_view number = text.substr(0, i);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      std::count(number.begin(), number.end(), '.') > 1)
    return std::nullopt;  // "1.5.5m" is not 1.5m
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
  std::string suffix;
  for (char c : text.substr(i))
    suffix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (suffix.empty() || suffix == "B") {
    mult = 1;
  } else if (suffix == "K" || suffix == "KB" || suffix == "KIB") {
    mult = 1024.0;
  } else if (suffix == "M" || suffix == "MB" || suffix == "MIB") {
    mult = 1024.0 * 1024;
  } else if (suffix == "G" || suffix == "GB" || suffix == "GIB") {
    mult = 1024.0 * 1024 * 1024;
  } else if (suffix == "T" || suffix == "TB" || suffix == "TIB") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  double total = value * mult;
  if (!(total >= 0) || total > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(total);
}

}  // namespace base::units
