#include "berth/network/port_mapping.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace berth {
namespace {

base::Result<uint16_t> parse_port(std::string_view text, const std::string& whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535)
    return base::fail_msg(fmt::format("-p '{}': '{}' is not a port (1-65535)", whole, text));
  return static_cast<uint16_t>(value);
}

// A port nothing listens on now, chosen by the kernel.
base::Result<uint16_t> free_port(const std::string& protocol) {
  base::UniqueFd s = TRY(base::sys::socket(AF_INET, protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM, 0,
                                           "choosing a host port"));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  socklen_t len = sizeof a;
  auto bound = base::sys::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (bound) bound = base::sys::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
  if (!bound)
    return base::fail(base::Error::sys(bound.error().code(), "bind", "choosing a host port"));
  return ntohs(a.sin_port);
}

}  // namespace

std::string PortMapping::text() const {
  return fmt::format("{}:{}->{}/{}", host_ip.empty() ? "0.0.0.0" : host_ip, host_port,
                     container_port, protocol);
}

nlohmann::json to_json(const PortMapping& p) {
  return {{"HostIp", p.host_ip},
          {"HostPort", p.host_port},
          {"ContainerPort", p.container_port},
          {"Protocol", p.protocol}};
}

base::Result<PortMapping> port_from_json(const nlohmann::json& j) {
  try {
    PortMapping p;
    p.host_ip = j.at("HostIp").get<std::string>();
    p.host_port = j.at("HostPort").get<uint16_t>();
    p.container_port = j.at("ContainerPort").get<uint16_t>();
    p.protocol = j.at("Protocol").get<std::string>();
    return p;
  } catch (const nlohmann::json::exception& e) {
    return base::fail_msg(fmt::format("published port record: {}", e.what()));
  }
}

base::Result<PortMapping> parse_port_mapping(const std::string& text) {
  PortMapping p;
  std::string rest = text;
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    p.protocol = rest.substr(slash + 1);
    if (p.protocol != "tcp" && p.protocol != "udp")
      return base::fail_msg(
          fmt::format("-p '{}': protocol '{}': expected tcp or udp", text, p.protocol));
    rest.resize(slash);
  }
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3)
    return base::fail_msg(
        fmt::format("-p '{}': expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]", text));
  p.container_port = TRY(parse_port(parts.back(), text));
  if (parts.size() == 3) {
    in_addr a{};
    if (::inet_pton(AF_INET, parts[0].c_str(), &a) != 1)
      return base::fail_msg(fmt::format("-p '{}': '{}' is not an IPv4 address", text, parts[0]));
    p.host_ip = parts[0] == "0.0.0.0" ? "" : parts[0];
  }
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
    p.host_port = TRY(parse_port(parts[parts.size() - 2], text));
  } else {
    p.host_port = TRY(free_port(p.protocol));
  }
  return p;
}

base::Status add_exposed_ports(nlohmann::json& image_config,
                               const std::vector<std::string>& expose) {
  for (const auto& text : expose) {
    auto slash = text.find('/');
    std::string ports = text.substr(0, slash);
    std::string proto = slash == std::string::npos ? "tcp" : text.substr(slash + 1);
    if (proto != "tcp" && proto != "udp")
      return base::fail_msg(fmt::format("--expose '{}': the protocol is tcp or udp", text));
    auto dash = ports.find('-');
    auto first = parse_port(ports.substr(0, dash), text);
    auto last = dash == std::string::npos ? first : parse_port(ports.substr(dash + 1), text);
    if (!first || !last || *first == 0 || *last < *first || *last - *first >= 4096)
      return base::fail_msg(fmt::format(
          "--expose '{}': must be PORT[-END][/tcp|udp], ports 1-65535, at most 4096", text));
    auto& config = image_config["config"];
    if (!config.is_object()) config = nlohmann::json::object();
    if (!config.contains("ExposedPorts") || !config["ExposedPorts"].is_object())
      config["ExposedPorts"] = nlohmann::json::object();
    for (unsigned port = *first; port <= *last; ++port)
      config["ExposedPorts"][fmt::format("{}/{}", port, proto)] = nlohmann::json::object();
  }
  return {};
}

base::Result<std::vector<PortMapping>> exposed_ports(const nlohmann::json& image_config) {
  std::vector<PortMapping> out;
  const auto* config = image_config.contains("config") ? &image_config["config"] : nullptr;
  if (!config || !config->is_object() || !config->contains("ExposedPorts")) return out;
  const auto& exposed = (*config)["ExposedPorts"];
  if (!exposed.is_object())
    return base::fail_msg("image config: config.ExposedPorts: must be an object");
  for (const auto& [key, unused] : exposed.items()) {
    auto mapped = parse_port_mapping(key);
    if (!mapped)
      return base::fail_msg(
          fmt::format("image config: config.ExposedPorts: '{}' is not PORT[/tcp|udp]", key));
    out.push_back(*mapped);
  }
  return out;
}

}  // namespace berth
