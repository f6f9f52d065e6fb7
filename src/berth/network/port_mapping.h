// Published ports: `-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]`, `-p CTRPORT`
// (any free host port) and `-P` (every port the image exposes).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

struct PortMapping {
  std::string host_ip;  // "" : every address of the host
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // tcp | udp
  // "0.0.0.0:8080->80/tcp", as docker ps shows it.
  std::string text() const;
  bool operator==(const PortMapping&) const = default;
};

nlohmann::json to_json(const PortMapping& p);
base::Result<PortMapping> port_from_json(const nlohmann::json& j);

// One -p value. A missing host port is chosen among the free ones.
base::Result<PortMapping> parse_port_mapping(const std::string& text);
// --expose values (PORT[-END][/tcp|udp], at most 4096 ports in a range)
// added to the image config's ExposedPorts, as docker merges them.
base::Status add_exposed_ports(nlohmann::json& image_config,
                               const std::vector<std::string>& expose);
// The image config's ExposedPorts ("80/tcp": {}), each on a free host port.
base::Result<std::vector<PortMapping>> exposed_ports(const nlohmann::json& image_config);

}  // namespace berth
