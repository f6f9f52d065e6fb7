#include "apps/berth/container_filter.h"

#include <algorithm>

#include <fmt/format.h>

#include "berth/network/port_mapping.h"

namespace berth_cli {

base::Result<ContainerFilter> ContainerFilter::parse(const std::vector<std::string>& words) {
  static const std::vector<std::string> kKeys = {
      "id",     "name",   "label",   "status", "exited", "ancestor", "network",
      "health", "volume", "publish", "expose", "before", "since"};
  static const std::vector<std::string> kStatuses = {"created",    "running",  "paused", "exited",
                                                     "restarting", "removing", "dead"};
  ContainerFilter f;
  for (const auto& w : words) {
    auto eq = w.find('=');
    std::string key = w.substr(0, eq);
    if (eq == std::string::npos || std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
      return base::fail_msg(fmt::format("--filter '{}': invalid filter '{}'", w, key));
    std::string value = w.substr(eq + 1);
    if (key == "status" && std::find(kStatuses.begin(), kStatuses.end(), value) == kStatuses.end())
      return base::fail_msg(fmt::format("--filter '{}': invalid filter 'status={}'", w, value));
    if (key == "health" && value != "starting" && value != "healthy" && value != "unhealthy" &&
        value != "none")
      return base::fail_msg(
          fmt::format("--filter '{}': health is starting, healthy, unhealthy or none", w));
    if (key == "exited" &&
        (value.empty() || value.find_first_not_of("-0123456789") != std::string::npos))
      return base::fail_msg(fmt::format("--filter '{}': exited takes a number", w));
    f.by_key_[key].push_back(value);
  }
  return f;
}

base::Status ContainerFilter::resolve(const std::string& root) {
  for (const char* key : {"before", "since"}) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    for (auto& v : it->second)
      v = TRY_CTX(berth::find_container(root, v), fmt::format("--filter {}={}", key, v)).created;
  }
  return {};
}

bool ContainerFilter::matches(const berth::ContainerRecord& c, bool paused,
                              const std::string& health) const {
  std::string status = paused ? "paused" : c.state;
  // "80" means 80/tcp, as docker reads it.
  auto port_key = [](const std::string& v) {
    return v.find('/') == std::string::npos ? v + "/tcp" : v;
  };
  auto one = [&](const std::string& key, const std::string& v) {
    if (key == "health") return health == v;
    if (key == "volume")
      return std::any_of(c.mounts.begin(), c.mounts.end(), [&](const nlohmann::json& m) {
        return m.value("Name", "") == v || m.value("Source", "") == v ||
               m.value("Destination", "") == v;
      });
    // docker matches these against a running container's ports only.
    if ((key == "publish" || key == "expose") && c.state != "running") return false;
    // publish: a host port it publishes; expose: a port of its own, exposed or published.
    auto ports = c.network.value("ports", nlohmann::json::array());
    if (key == "publish" || key == "expose") {
      bool host = key == "publish";
      if (std::any_of(ports.begin(), ports.end(), [&](const nlohmann::json& j) {
            auto p = berth::port_from_json(j);
            return p && fmt::format("{}/{}", host ? p->host_port : p->container_port,
                                    p->protocol) == port_key(v);
          }))
        return true;
    }
    if (key == "expose") {
      auto exposed = c.config.value("ExposedPorts", nlohmann::json::object());
      return exposed.is_object() && exposed.contains(port_key(v));
    }
    if (key == "publish") return false;
    if (key == "id") return c.id.rfind(v, 0) == 0;
    // resolve() made these the reference container's creation time.
    if (key == "before") return c.created < v;
    if (key == "since") return c.created > v;
    if (key == "name") return c.name.find(v) != std::string::npos;
    if (key == "status") return status == v;
    if (key == "exited") return c.state == "exited" && std::to_string(c.exit_code) == v;
    if (key == "ancestor")
      return c.image == v || c.image == v + ":latest" ||
             (v.size() >= 4 &&
              (c.image_id.rfind(v, 0) == 0 || c.image_id.rfind("sha256:" + v, 0) == 0));
    if (key == "network") {
      if (c.network.value("name", c.network.value("mode", "")) == v) return true;
      for (const auto& n : c.network.value("connected", nlohmann::json::array()))
        if (n == v) return true;
      return false;
    }
    if (key == "label") {
      auto eq = v.find('=');
      auto it = c.labels.find(v.substr(0, eq));
      return it != c.labels.end() && (eq == std::string::npos || it->second == v.substr(eq + 1));
    }
    return false;
  };
  for (const auto& entry : by_key_)
    if (std::none_of(entry.second.begin(), entry.second.end(),
                     [&](const auto& v) { return one(entry.first, v); }))
      return false;
  return true;
}

}  // namespace berth_cli
