#include "berth/build/text.h"

#include <fmt/format.h>

namespace berth::build {

std::string shown(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  out += text.size() > kMax ? "...'" : "'";
  return out;
}

}  // namespace berth::build
