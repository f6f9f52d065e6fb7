// Human-readable quantities: byte counts, rates and durations, and parsing of
// sizes such as "64K", "1.5MiB", "2G". Binary multiples (K = 1024).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace base::units {

std::string bytes(uint64_t n);              // "1.5 GiB"
std::string rate(double bytes_per_second);  // "1.23 GB/s" (decimal, as networks are)
std::string duration(double seconds);       // "1m05s", "3.2s", "850ms"
std::optional<uint64_t> parse_size(std::string_view text);
// docker's sizes (go-units CustomSize): "%.{precision}g" and the unit, in
// steps of 1024 ("1.5MiB", binary) or 1000 ("2.03MB"): 4 digits for
// `system df` and memory, 3 for `stats`' network and block I/O.
std::string go_size(double bytes, bool binary, int precision);

}  // namespace base::units
