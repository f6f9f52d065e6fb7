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

}  // namespace base::units
