#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace net {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return fmt::format("{}:{}", buf, ntohs(in->sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    return fmt::format("[{}]:{}", buf, ntohs(in6->sin6_port));
  }
  return "?";
}

base::Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port) {
  HostPort hp;
  hp.port = default_port;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return base::fail_msg(fmt::format("address '{}': missing ']'", text));
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return base::fail_msg(fmt::format("address '{}': expected ':' after ']'", text));
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      hp.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
    } else {
      hp.host = std::string(text);  // a bare IPv6 literal or a host name
    }
  }
  if (!port_text.empty() || (text.size() > 0 && text.back() == ':')) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535)
      return base::fail_msg(fmt::format("address '{}': port must be a number 0-65535", text));
    hp.port = static_cast<uint16_t>(value);
  }
  return hp;
}

base::Result<std::vector<SocketAddress>> resolve(const HostPort& hp, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string port = std::to_string(hp.port);
  int rc = getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) return base::fail_msg(fmt::format("resolve {}: {}", hp.host, gai_strerror(rc)));
  std::vector<SocketAddress> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(list);
  if (out.empty()) return base::fail_msg(fmt::format("resolve {}: no addresses", hp.host));
  return out;
}

}  // namespace net
