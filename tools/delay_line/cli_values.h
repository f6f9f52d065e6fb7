// The delay line's command-line quantities, parsed and checked: durations,
// rates, loss percentages, IPv4 prefixes, and the names of namespaces and
// devices. Each parser returns nullopt for text it does not accept; the caller
// names the flag in its error. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace delay_line {

// "50ms", "0.5s", "250us", "2000ns", "0": a non-negative duration in
// nanoseconds, at most one hour. A bare number other than 0 needs a unit.
std::optional<int64_t> parse_duration_ns(std::string_view text);

// tc's rate words, case-insensitive: "1gbit", "100mbit", "64kbit", "8000bit",
// "1.5gbit": bits per second (decimal multiples), at least 8 kbit/s and at
// most 1 Tbit/s. tc's byte units ("mbps") are refused as ambiguous.
std::optional<uint64_t> parse_rate_bps(std::string_view text);

// "5", "5%", "0.1%": a loss probability between 0 and 1.
std::optional<double> parse_loss(std::string_view text);

struct Ipv4Prefix {
  uint32_t address = 0;  // host byte order
  int length = 0;        // 1..30: room for two hosts
};
// "10.204.3.1/24".
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text);
// Whether a and b are two hosts of one subnet: the same prefix length and
// network, different addresses, neither the network nor the broadcast address.
bool two_hosts_of_one_subnet(const Ipv4Prefix& a, const Ipv4Prefix& b);

// A name under /run/netns: not empty, no '/', not "." or "..", at most 255 bytes.
bool valid_netns_name(std::string_view name);
// An interface name: 1..15 bytes, none of them '/', ':', space or control.
bool valid_device_name(std::string_view name);

}  // namespace delay_line
