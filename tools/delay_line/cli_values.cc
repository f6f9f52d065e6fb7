#include "tools/delay_line/cli_values.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace delay_line {
namespace {

// A plain decimal number ("12", "0.25") at the start of `text`; `rest`
// receives what follows. Signs and exponents are not numbers here.
std::optional<double> leading_number(std::string_view text, std::string_view* rest) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string_view digits = text.substr(0, i);
  if (digits.empty() || digits.front() == '.' || digits.back() == '.') return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value,
                                   std::chars_format::fixed);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  *rest = text.substr(i);
  return value;
}

std::string lower(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<int64_t> parse_duration_ns(std::string_view text) {
  std::string_view unit_text;
  auto value = leading_number(text, &unit_text);
  if (!value) return std::nullopt;
  std::string unit = lower(unit_text);
  double scale = 0;
  if (unit == "ns" || (unit.empty() && *value == 0)) {
    scale = 1;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s") {
    scale = 1e9;
  } else {
    return std::nullopt;
  }
  double ns = *value * scale;
  if (!(ns >= 0) || ns > 3600e9) return std::nullopt;
  return static_cast<int64_t>(std::llround(ns));
}

std::optional<uint64_t> parse_rate_bps(std::string_view text) {
  std::string_view unit_text;
  auto value = leading_number(text, &unit_text);
  if (!value) return std::nullopt;
  std::string unit = lower(unit_text);
  double scale = 0;
  if (unit == "bit") {
    scale = 1;
  } else if (unit == "kbit") {
    scale = 1e3;
  } else if (unit == "mbit") {
    scale = 1e6;
  } else if (unit == "gbit") {
    scale = 1e9;
  } else if (unit == "tbit") {
    scale = 1e12;
  } else {
    return std::nullopt;
  }
  double bps = *value * scale;
  if (!(bps >= 8e3) || bps > 1e12) return std::nullopt;
  return static_cast<uint64_t>(std::llround(bps));
}

std::optional<double> parse_loss(std::string_view text) {
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  std::string_view rest;
  auto value = leading_number(text, &rest);
  if (!value || !rest.empty() || *value > 100) return std::nullopt;
  return *value / 100;
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string address(text.substr(0, slash));
  std::string_view length_text = text.substr(slash + 1);
  int length = 0;
  auto [end, ec] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (length_text.empty() || ec != std::errc() || end != length_text.data() + length_text.size() ||
      length < 1 || length > 30)
    return std::nullopt;
  struct in_addr in {};
  if (::inet_pton(AF_INET, address.c_str(), &in) != 1) return std::nullopt;
  return Ipv4Prefix{ntohl(in.s_addr), length};
}

bool two_hosts_of_one_subnet(const Ipv4Prefix& a, const Ipv4Prefix& b) {
  if (a.length != b.length || a.address == b.address) return false;
  uint32_t mask = ~0u << (32 - a.length);
  auto host = [&](uint32_t address) {
    uint32_t h = address & ~mask;
    return h != 0 && h != ~mask;
  };
  return (a.address & mask) == (b.address & mask) && host(a.address) && host(b.address);
}

bool valid_netns_name(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

bool valid_device_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '/' || c == ':') return false;
  }
  return true;
}

}  // namespace delay_line
