// Command-line operands of `ferry cp`, with scp's habits:
//   HOST:PATH, [V6ADDR]:PATH, ferry://HOST[:PORT]/PATH  -> remote
//   anything else (including paths with a '/' before any ':') -> local
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "net/address.h"

namespace ferry {

inline constexpr uint16_t kDefaultPort = 7077;

struct Operand {
  bool remote = false;
  net::HostPort server;  // remote only
  std::string path;      // remote: path in the served directory ("" = its root)
};

base::Result<Operand> parse_operand(std::string_view text, uint16_t default_port);

}  // namespace ferry
