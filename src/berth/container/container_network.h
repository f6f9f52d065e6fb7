// A container's network, wired and unwired: the engine half of `--network`.
// For a bridge network, attach() (at each start, before the runtime runs):
//   1. makes the network's bridge if missing (gateway address, up,
//      route_localnet for published ports reached from 127.0.0.1) and turns on
//      IPv4 forwarding;
//   2. reserves an address (networks.h IPAM);
//   3. makes the container's network namespace as a file
//      (<run-root>/netns/<id>), named in its OCI config;
//   4. creates a veth pair: the host end on the bridge, the other end made
//      straight inside the namespace as eth0, the network's MTU on both;
//      and one more, eth1, eth2 ..., for each network `network connect`
//      added (the record's "connected" list: no default route, no ports);
//   5. configures eth0 (address, up) and the default route via the gateway;
//   6. writes /etc/hosts (its address) and /etc/resolv.conf; on a
//      user-defined network, starts its DNS responder (dns_responder.h);
//   7. rewrites the nftables table (firewall.h) with its published ports.
// detach() undoes all of it and is idempotent: the monitor calls it when the
// container is gone, and the next berth command calls it for a container
// whose monitor died (a kill -9, a reboot). A failed attach detaches.
// Thread-safety: safe across processes (per-container lock held by callers).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/container/container_record.h"
#include "berth/container/container_spec.h"
#include "berth/network/networks.h"

namespace berth {

struct NetworkPaths {
  std::string root;      // --root
  std::string run_root;  // --run-root
};

std::string netns_path(const NetworkPaths& p, const std::string& id);

// docker's MAC for a container's address: 02:42 and the address's four
// bytes ("" for text that is no IPv4 address). Every interface gets the
// MAC of its address, so neighbours' ARP entries stay right when a
// container restarts or reconnects with the same address.
std::string mac_of_address(const std::string& address);

// A container's /etc/hosts: localhost, its address (127.0.1.1 without one)
// under its hostname, and the record's ExtraHosts (--add-host HOST:IP;
// IP "host-gateway" is `gateway`, the bridge's address, or left out without one).
std::string hosts_text(const std::string& address, const std::string& hostname,
                       const nlohmann::json& record_network, const std::string& gateway = "");
// A container's /etc/resolv.conf from the host's `host_conf`: loopback name
// servers dropped unless it shares the host's network; `responder` (a
// user-defined network's DNS, or "") first; the record's Dns, DnsSearch and
// DnsOptions (--dns ...) in place of the host's lines of that kind.
std::string resolv_conf_text(const std::string& host_conf, bool host_network,
                             const std::string& responder, const nlohmann::json& record_network);

// The record's "Network" for these run options: {"mode": "none"|"host"},
// {"mode": "container", "container": ID}, or {"mode": "bridge", "name": N,
// "ports": [...]} (the network must exist; berth0 is defined on first use),
// with ExtraHosts, Dns, DnsSearch, DnsOptions when given (each value one
// word, so no value can add a line of its own to those files).
base::Result<nlohmann::json> plan_network(const NetworkPaths& p, const RunOptions& o,
                                          const nlohmann::json& image_config);
// --network container:ID, at each start: the bundle's config names that
// running container's network namespace (its namespace file on a bridge,
// else its init's) and its /etc/hosts and /etc/resolv.conf are copied.
base::Status join_network_of(const NetworkPaths& p, const ContainerRecord& rec,
                             const std::string& dir);

// `record_network` is the record's "Network" ({"mode": "bridge", "name": N,
// "ports": [...]}); `dir` holds the container's hosts, hostname, resolv.conf.
base::Result<Attachment> attach_network(const NetworkPaths& p, const std::string& id,
                                        const std::string& name,
                                        const nlohmann::json& record_network,
                                        const std::string& dir);
// Undoes every attachment of the container (its first network's and those
// connected later), its firewall rules and its namespace file.
base::Status detach_network(const NetworkPaths& p, const std::string& id);

// `network connect` and `disconnect` on a running container (bridge mode,
// its namespace file in place), the caller holding its lock: the next
// eth<N> on `network` (a line for it appended to the bind-mounted
// /etc/hosts in place), or that network's interface (and that line) gone.
// A connect that fails leaves nothing behind.
inline constexpr int kMostInterfaces = 99;
base::Result<Attachment> connect_running(const NetworkPaths& p, const std::string& id,
                                         const std::string& name, const std::string& network,
                                         const std::string& dir);
base::Status disconnect_running(const NetworkPaths& p, const std::string& id,
                                const std::string& network, const std::string& dir);

}  // namespace berth
