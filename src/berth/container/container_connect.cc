#include "berth/container/container_connect.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "berth/container/container_handle.h"
#include "berth/container/container_network.h"
#include "berth/container/events.h"
#include "berth/network/networks.h"

namespace berth {
namespace {

// "bridge" is docker's name for the default network.
base::Result<Network> network_named(const Paths& p, const std::string& name) {
  return Networks(p.root).get(name == "bridge" ? kDefaultNetwork : name);
}

std::vector<std::string> connected(const ContainerRecord& rec) {
  std::vector<std::string> out;
  for (const auto& n : rec.network.value("connected", nlohmann::json::array()))
    if (n.is_string()) out.push_back(n.get<std::string>());
  return out;
}

bool running(ContainerHandle& h) {
  return h.record().state == "running" && monitor_alive(h.dir());
}

void network_event(const Paths& p, const Network& n, const std::string& action,
                   const std::string& container) {
  record_event(p.root, "network", action, n.name,
               {{"container", container}, {"name", n.name}, {"type", "bridge"}});
}

}  // namespace

base::Status connect_container(const Paths& p, const std::string& network,
                               const std::string& id_or_name) {
  Network n = TRY(network_named(p, network));
  std::string id = TRY(find_container(p.root, id_or_name)).id;
  auto h = TRY(ContainerHandle::lock(p.root, id));
  ContainerRecord& rec = h.record();
  std::string mode = rec.network.value("mode", "none");
  if (mode != "bridge")
    return base::fail_msg(
        fmt::format("container {} uses --network {}: it cannot be connected to other networks",
                    rec.name, mode == "container" ? "container:ID" : mode));
  auto names = connected(rec);
  if (rec.network.value("name", "") == n.name ||
      std::find(names.begin(), names.end(), n.name) != names.end())
    return base::fail_msg(
        fmt::format("container {} is already connected to network {}", rec.name, network));
  if (names.size() >= static_cast<size_t>(kMostInterfaces))
    return base::fail_msg(
        fmt::format("container {}: at most {} networks", rec.name, kMostInterfaces));
  bool live = running(h);
  if (live) TRY_STATUS(connect_running({p.root, p.run_root}, id, rec.name, n.name, h.dir()));
  rec.network["connected"].push_back(n.name);
  if (auto saved = h.save(); !saved) {
    if (live) (void)disconnect_running({p.root, p.run_root}, id, n.name, h.dir());  // as it was
    return saved;
  }
  network_event(p, n, "connect", id);
  return {};
}

base::Status disconnect_container(const Paths& p, const std::string& network,
                                  const std::string& id_or_name) {
  Network n = TRY(network_named(p, network));
  std::string id = TRY(find_container(p.root, id_or_name)).id;
  auto h = TRY(ContainerHandle::lock(p.root, id));
  ContainerRecord& rec = h.record();
  if (rec.network.value("mode", "") == "bridge" && rec.network.value("name", "") == n.name)
    return base::fail_msg(fmt::format(
        "container {}: berth cannot disconnect it from {}, the network it was started on", rec.name,
        network));
  auto names = connected(rec);
  auto it = std::find(names.begin(), names.end(), n.name);
  if (it == names.end())
    return base::fail_msg(
        fmt::format("container {} is not connected to network {}", rec.name, network));
  if (running(h)) TRY_STATUS(disconnect_running({p.root, p.run_root}, id, n.name, h.dir()));
  names.erase(it);
  rec.network["connected"] = names;
  TRY_STATUS(h.save());
  network_event(p, n, "disconnect", id);
  return {};
}

}  // namespace berth
