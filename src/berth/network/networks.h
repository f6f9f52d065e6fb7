// Bridge networks and their addresses (IPAM), on disk under <root>/networks:
//   NAME.json        the network: bridge name, subnet, gateway
//   NAME.ips/A.B.C.D one file per address in use: the attachment holding it,
//                    written whole, then link()ed into place (which fails if
//                    the name exists), so concurrent runs never share one
// `berth0` is the default network, defined on first use (172.30.0.0/16, or
// the first free /16 after it). A subnet is free when no interface of this
// network namespace and no other berth root here (their claims in
// /run/berth/subnets) has it. Other networks get the first free /24 of
// 172.31.0.0/16 unless given a subnet. Bridges themselves are made by
// container_network when a container first needs one.
// Thread-safety: safe across processes (a lock file guards definitions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/network/port_mapping.h"

namespace berth {

inline constexpr const char* kDefaultNetwork = "berth0";

// The names a berth root gives what it makes in a network namespace that
// other roots may share (two CI jobs on one host): the default root
// (/var/lib/berth) uses the bridge `berth0` and the nftables table
// `ip berth`; any other root adds a tag of its path (8 hex digits of its
// SHA-256), `berth0-1a2b3c4d` and `ip berth_1a2b3c4d`, so two roots never
// share a bridge or rewrite each other's rules.
struct HostNames {
  std::string default_bridge;
  std::string table;
};
HostNames host_names_of(const std::string& root);

struct Network {
  std::string name;
  std::string bridge;   // the host's bridge device
  std::string subnet;   // "172.30.0.0/16"
  std::string gateway;  // "172.30.0.1": the bridge's address
  std::string created;
  unsigned mtu = 1500;  // the bridge's and every veth's on it
  bool is_default() const { return name == kDefaultNetwork; }
};

// A container's place on a network.
struct Attachment {
  std::string network;
  std::string container_id;
  std::string container_name;
  std::string address;             // "172.30.0.2"
  std::string host_veth;           // the host end of its veth pair
  std::string interface = "eth0";  // the other end, in the container
  std::vector<PortMapping> ports;
};

nlohmann::json to_json(const Network& n);
nlohmann::json to_json(const Attachment& a);
base::Result<Attachment> attachment_from_json(const nlohmann::json& j);

// An IPv4 subnet in CIDR form, parsed; errors name the text.
struct Subnet {
  uint32_t base = 0;  // host order, host bits zero
  int prefix = 0;
  static base::Result<Subnet> parse(const std::string& cidr);
  std::string address(uint32_t offset) const;  // base + offset, dotted
  uint32_t size() const { return prefix == 0 ? 0 : (1u << (32 - prefix)); }
  bool overlaps(const Subnet& o) const;
  std::string text() const;
};

class Networks {
 public:
  explicit Networks(const std::string& root);
  const HostNames& host_names() const { return names_; }

  // `berth0` is defined here when missing.
  base::Result<Network> get(const std::string& name);
  // `mtu` 0: 1500. A larger one speeds container-to-container traffic (up
  // to 65535); traffic leaving the host then relies on path MTU discovery.
  base::Result<Network> create(const std::string& name, const std::string& subnet = "",
                               unsigned mtu = 0);
  std::vector<Network> list() const;
  // Refused while containers are attached; the bridge is the caller's to delete.
  base::Status remove(const std::string& name);

  // Reserves the lowest free address for `a` (a.address is set). Refused,
  // naming the holder, when another attachment of any network publishes one
  // of a's host ports (same protocol, and the same or an any address).
  base::Status allocate(Network& n, Attachment& a);
  base::Status release(const std::string& network, const std::string& address);
  std::vector<Attachment> attachments(const std::string& network) const;
  // Removes the temporaries of allocate() calls whose process is gone.
  void remove_stale_temporaries(const std::string& network);
  // Removes definitions a killed process was writing (NAME.json.tmp.PID.N,
  // base::replace_file's temporaries) whose process is gone.
  void remove_stale_definition_temporaries();
  // A container's attachments, on every network (its first network's and
  // those `network connect` added).
  std::vector<Attachment> attachments_of(const std::string& container_id) const;

 private:
  base::Status check_ports_free(const Attachment& a) const;
  std::string dir_;
  std::string root_;  // canonical, as other roots' subnet claims name it
  HostNames names_;
};

}  // namespace berth
