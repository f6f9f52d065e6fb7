// Network commands: network create/ls/inspect/rm/prune/connect/disconnect, port.
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "berth/container/container_connect.h"
#include "berth/container/containers.h"
#include "berth/network/firewall.h"
#include "berth/network/netlink.h"
#include "berth/network/networks.h"

namespace berth_cli {

void add_network_commands(CLI::App& app, Globals& g) {
  auto* network = app.add_subcommand(
      "network", "bridge networks: create, ls, inspect, rm, connect, disconnect");
  network->require_subcommand(1);
  static std::string name, subnet, format;
  static unsigned mtu = 0;
  static std::vector<std::string> names;

  auto* create = network->add_subcommand("create", "a bridge network with its own subnet");
  create->add_option("--subnet", subnet, "CIDR, e.g. 10.5.0.0/24 (default: a free /24)");
  create->add_option("--mtu", mtu, "MTU of the bridge and its veths (default 1500)");
  create->add_option("name", name, "network name")->required();
  create->callback([&g] {
    berth::Networks networks(g.root);
    auto n = networks.create(name, subnet, mtu);
    if (!n) return fail(g, n.error());
    std::printf("%s\n", n->name.c_str());
  });

  auto* ls = network->add_subcommand("ls", "list networks");
  ls->add_option("--format", format, "a template: {{.Name}}\\t{{.Subnet}}");
  ls->callback([&g] {
    berth::Networks networks(g.root);
    std::vector<nlohmann::json> rows;
    for (const auto& n : networks.list()) {
      auto row = berth::to_json(n);
      row["Containers"] = networks.attachments(n.name).size();
      rows.push_back(row);
    }
    print_template(
        g, format.empty() ? "table {{.Name}}\\t{{.Bridge}}\\t{{.Subnet}}\\t{{.Gateway}}" : format,
        rows, {{"Name", "NETWORK"}});
  });

  auto* inspect = network->add_subcommand("inspect", "a network and its containers, as JSON");
  inspect->add_option("name", name, "network name")->required();
  inspect->callback([&g] {
    berth::Networks networks(g.root);
    auto n = networks.get(name);
    if (!n) return fail(g, n.error());
    auto out = berth::to_json(*n);
    out["Containers"] = nlohmann::json::array();
    for (const auto& a : networks.attachments(n->name))
      out["Containers"].push_back(berth::to_json(a));
    std::printf("%s\n", out.dump(2).c_str());
  });

  auto* rm = network->add_subcommand("rm", "remove networks no container uses");
  rm->add_option("names", names, "network names")->required();
  rm->callback([&g] {
    berth::Networks networks(g.root);
    for (const auto& n : names) {
      auto found = networks.get(n);
      if (!found) {
        fail(g, found.error());
        continue;
      }
      if (auto s = networks.remove(n); !s) {
        fail(g, s.error());
        continue;
      }
      auto nl = berth::Netlink::open();
      if (nl) (void)nl->delete_link(found->bridge);
      (void)berth::sync_firewall(networks, g.run_root + "/network");
      std::printf("%s\n", n.c_str());
    }
  });

  static bool prune_force = false;
  auto* prune = network->add_subcommand("prune", "remove the networks no running container uses");
  prune->add_flag("-f,--force", prune_force, "do not ask (berth never asks)");
  prune->callback([&g] {
    berth::Networks networks(g.root);
    std::vector<std::string> deleted;
    for (const auto& n : networks.list()) {
      // The default network stays, as docker's bridge does; one in use is refused.
      if (n.is_default() || !networks.remove(n.name)) continue;
      if (auto nl = berth::Netlink::open()) (void)nl->delete_link(n.bridge);
      deleted.push_back(n.name);
    }
    if (deleted.empty()) return;
    (void)berth::sync_firewall(networks, g.run_root + "/network");
    std::printf("Deleted Networks:\n");
    for (const auto& n : deleted) std::printf("%s\n", n.c_str());
    std::printf("\n");
  });

  static std::string target;
  static std::map<std::string, std::string> refused;
  auto* connect = network->add_subcommand("connect", "add a network to a container");
  static const std::vector<std::pair<std::string, std::string>> kRefusedOnConnect = {
      {"ip", "berth gives the lowest free address"},
      {"ip6", "berth's networks are IPv4"},
      {"alias", "names on a network are containers' names only"},
      {"link", "legacy links are not supported"},
      {"link-local-ip", "not supported"},
      {"driver-opt", "berth's bridge driver has no options"}};
  for (const auto& [flag, why] : kRefusedOnConnect)
    connect->add_option("--" + flag, refused[flag], "refused: " + why);
  connect->add_option("network", name, "network name")->required();
  connect->add_option("container", target, "id or name")->required();
  connect->callback([&g, connect] {
    for (const auto& [flag, why] : kRefusedOnConnect)
      if (connect->count("--" + flag) > 0)
        return fail(g, base::Error::msg(fmt::format("network connect --{}: {}", flag, why)));
    if (auto s = berth::connect_container({g.root, g.run_root}, name, target); !s)
      fail(g, s.error());
  });

  static bool force = false;
  auto* disconnect = network->add_subcommand("disconnect", "take a network from a container");
  disconnect->add_flag("-f,--force", force, "accepted: a disconnect never waits");
  disconnect->add_option("network", name, "network name")->required();
  disconnect->add_option("container", target, "id or name")->required();
  disconnect->callback([&g] {
    if (auto s = berth::disconnect_container({g.root, g.run_root}, name, target); !s)
      fail(g, s.error());
  });

  auto* port = app.add_subcommand("port", "a container's published ports");
  port->add_option("container", target, "id or name")->required();
  port->callback([&g] {
    auto rec = berth::find_container(g.root, target);
    if (!rec) return fail(g, rec.error());
    const auto& net = rec->network;
    if (!net.contains("ports")) return;
    for (const auto& j : net["ports"]) {
      auto p = berth::port_from_json(j);
      if (!p) return fail(g, p.error());
      std::printf("%u/%s -> %s:%u\n", p->container_port, p->protocol.c_str(),
                  p->host_ip.empty() ? "0.0.0.0" : p->host_ip.c_str(), p->host_port);
    }
  });
}

}  // namespace berth_cli
