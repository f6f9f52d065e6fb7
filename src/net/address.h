// Network addresses as users write them: "host", "host:port", "[v6addr]:port",
// and their resolution to socket addresses with getaddrinfo(3).
// Thread-safety: pure functions (getaddrinfo is thread-safe).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace net {

struct HostPort {
  std::string host;  // name or literal address, without IPv6 brackets
  uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 literals again
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string to_string() const;  // "127.0.0.1:7077", "[::1]:7077"
};

// Parses "host[:port]" or "[v6]:port"; a missing port becomes `default_port`.
base::Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port);

// Resolves to TCP socket addresses. `passive` resolves for bind(); an empty
// host then means every local address.
base::Result<std::vector<SocketAddress>> resolve(const HostPort& hp, bool passive);

}  // namespace net
