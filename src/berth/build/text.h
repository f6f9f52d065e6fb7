// Small text helpers shared by `berth build`: ASCII whitespace as docker's
// parsers treat it, trimming, ASCII case, Go's path cleaning, and quoting a
// piece of hostile text for a one-line error message.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace berth::build {

// Space, tab, newline, vertical tab, form feed, carriage return.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

inline std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII upper and lower case (keywords, stage names, flag values).
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);

// Go's filepath.Clean on '/'-separated paths: no empty or "." elements, ".."
// folded into its parent where there is one (and dropped at the root of a
// rooted path); "." for nothing, "/" for the root.
std::string clean_path(std::string_view path);

// 'text' for an error message: control bytes written as \xNN, and cut after
// 60 bytes with "..." so a message stays one short line.
std::string shown(std::string_view text);

}  // namespace berth::build
