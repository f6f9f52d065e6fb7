// Command-line operands of `ferry cp`, with scp's habits:
//   ferry://HOST[:PORT]/PATH                 -> a ferry server (token)
//   [USER@]HOST:PATH, [USER@][V6ADDR]:PATH   -> over ssh (ssh_session.h)
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
  bool over_ssh = false;        // remote through ssh, not a ferry:// server
  net::HostPort server;         // ferry://: the server; ssh: HOST (port 0 until it is known)
  std::string ssh_destination;  // ssh: [USER@]HOST as ssh takes it
  // ferry://: the path in the served directory ("" = its root); ssh: as the
  // remote user names it, from their home directory ("" = home).
  std::string path;
};

base::Result<Operand> parse_operand(std::string_view text, uint16_t default_port);

}  // namespace ferry
