#include "berth/go_text.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace berth {
namespace {

// The length of the UTF-8 sequence starting at s[i] (1 to 4), or 0 when it
// is not a valid one.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  if (n == 2 && c < 0xc2) return 0;                          // overlong
  if (n == 3 && c == 0xe0 && byte(i + 1) < 0xa0) return 0;   // overlong
  if (n == 3 && c == 0xed && byte(i + 1) >= 0xa0) return 0;  // surrogate
  if (n == 4 &&
      (c > 0xf4 || (c == 0xf0 && byte(i + 1) < 0x90) || (c == 0xf4 && byte(i + 1) >= 0x90)))
    return 0;
  return n;
}

// The code point of the valid n-byte UTF-8 sequence at s[i].
char32_t decode(std::string_view s, size_t i, size_t n) {
  auto byte = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
  static constexpr char32_t kLead[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  char32_t cp = byte(i) & kLead[n];
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (byte(i + k) & 0x3f);
  return cp;
}

// What Go's unicode.IsPrint refuses beyond ASCII, as far as a terminal
// could be misled by it: C1 controls, spaces other than ' ', format
// characters (bidirectional overrides, zero-width ones), line and paragraph
// separators, private use and tag characters.
bool unprintable(char32_t c) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},   {0x61c, 0x61c},   {0x6dd, 0x6dd},
      {0x70f, 0x70f},     {0x1680, 0x1680},   {0x180e, 0x180e}, {0x2000, 0x200f}, {0x2028, 0x202f},
      {0x205f, 0x206f},   {0x3000, 0x3000},   {0xd800, 0xf8ff}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb},
      {0xe0000, 0xe007f}, {0xf0000, 0x10ffff}};
  for (const auto& [first, last] : kRanges)
    if (c >= first && c <= last) return true;
  return false;
}

}  // namespace

std::string go_quote(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = utf8_length(text, i);
    if (n > 1) {
      char32_t cp = decode(text, i, n);
      if (!unprintable(cp))
        out.append(text.substr(i, n));
      else if (cp < 0x10000)
        out += fmt::format("\\u{:04x}", static_cast<uint32_t>(cp));
      else
        out += fmt::format("\\U{:08x}", static_cast<uint32_t>(cp));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c >= 0x7f)
          out += fmt::format("\\x{:02x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

size_t text_width(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++width) {
    size_t n = utf8_length(text, i);
    i += n == 0 ? 1 : n;
  }
  return width;
}

std::string ellipsis(std::string_view text, size_t max) {
  std::vector<size_t> starts;  // where each code point begins
  for (size_t i = 0; i < text.size();) {
    starts.push_back(i);
    size_t n = utf8_length(text, i);
    i += n == 0 ? 1 : n;
  }
  if (starts.size() <= max) return std::string(text);
  if (max == 0) return "";
  return std::string(text.substr(0, starts[max - 1])) + "…";
}

}  // namespace berth
