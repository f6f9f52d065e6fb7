#include "berth/container/container_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "berth/container/container_handle.h"
#include "berth/container/container_record.h"
#include "berth/network/dns_responder.h"
#include "berth/network/firewall.h"
#include "berth/network/netlink.h"
#include "berth/network/netns.h"
#include "oci/state.h"

namespace berth {
namespace {

base::Status write_sysctl(const std::string& path, const std::string& value) {
  auto current = base::read_text(path);
  if (current && current->substr(0, value.size()) == value) return {};
  base::UniqueFd fd = TRY(base::sys::open(path, O_WRONLY | O_CLOEXEC));
  return base::sys::write_all(fd.get(), value.data(), value.size(), path);
}

// The bridge, its gateway address (with the subnet's `prefix`), up; forwarding on.
base::Status ensure_bridge(Netlink& host, const Network& n, int prefix) {
  TRY_STATUS(host.create_bridge(n.bridge, n.mtu, mac_of_address(n.gateway)));
  TRY_STATUS(host.add_address(n.bridge, fmt::format("{}/{}", n.gateway, prefix)));
  TRY_STATUS(host.set_up(n.bridge));
  TRY_STATUS(write_sysctl("/proc/sys/net/ipv4/conf/" + n.bridge + "/route_localnet", "1"));
  return write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
}

// The lines of a record's "Network" list `key` (--dns, --add-host ...).
std::vector<std::string> listed(const nlohmann::json& record_network, const char* key) {
  std::vector<std::string> out;
  if (record_network.contains(key) && record_network[key].is_array())
    for (const auto& v : record_network[key])
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// The container's host name, from the file its /etc/hostname is.
std::string hostname_of(const std::string& dir) {
  std::string hostname = base::read_text(dir + "/hostname").value_or("");
  while (!hostname.empty() && hostname.back() == '\n') hostname.pop_back();
  return hostname;
}

// /etc/hosts and /etc/resolv.conf at a start (the container not running
// yet: whole files, renamed into place). `more` are its addresses on
// networks connected later, each a line under its hostname too, as docker's.
base::Status write_name_files(const std::string& dir, const Network& n, const Attachment& a,
                              const nlohmann::json& record_network,
                              const std::vector<std::string>& more) {
  std::string hostname = hostname_of(dir);
  std::string hosts = hosts_text(a.address, hostname, record_network, n.gateway);
  for (const auto& address : more) hosts += fmt::format("{}\t{}\n", address, hostname);
  TRY_STATUS(base::replace_file(dir + "/hosts", hosts));
  TRY_STATUS(
      base::replace_file(dir + "/resolv.conf",
                         resolv_conf_text(base::read_text("/etc/resolv.conf").value_or(""), false,
                                          n.is_default() ? "" : n.gateway, record_network)));
  for (const char* f : {"/hosts", "/resolv.conf"}) ::chmod((dir + f).c_str(), 0644);
  return {};
}

// The host end of a container's veth for interface `index` (eth0: vb<id>).
std::string host_veth_name(const std::string& id, int index) {
  return index == 0 ? "vb" + id.substr(0, 12) : fmt::format("v{}{}", index, id.substr(0, 12));
}

// One interface of container `id` on `network`, in the namespace `ns_fd`:
// the bridge made if missing, an address reserved, a veth whose other end
// is eth<index> inside, up, with the address; eth0 also gets the default
// route and the published `ports`. The caller syncs the firewall.
base::Result<Attachment> wire_interface(const NetworkPaths& p, Networks& networks, Netlink& host,
                                        int ns_fd, const std::string& id, const std::string& name,
                                        const std::string& network, int index,
                                        const nlohmann::json& ports) {
  Network n = TRY(networks.get(network));
  Subnet s = TRY(Subnet::parse(n.subnet));
  TRY_STATUS(ensure_bridge(host, n, s.prefix));
  Attachment a;
  a.container_id = id;
  a.container_name = name;
  a.host_veth = host_veth_name(id, index);
  a.interface = fmt::format("eth{}", index);
  if (ports.is_array())
    for (const auto& j : ports) a.ports.push_back(TRY(port_from_json(j)));
  TRY_STATUS(networks.allocate(n, a));
  (void)host.delete_link(a.host_veth);
  TRY_STATUS(host.create_veth(a.host_veth, n.bridge, a.interface, ns_fd, n.mtu,
                              mac_of_address(a.address)));
  Netlink inside = TRY(Netlink::open_in(ns_fd));
  TRY_STATUS(inside.add_address(a.interface, fmt::format("{}/{}", a.address, s.prefix)));
  TRY_STATUS(inside.set_up(a.interface));
  if (index == 0) TRY_STATUS(inside.add_default_route(n.gateway, a.interface));
  if (!n.is_default())
    TRY_STATUS(ensure_dns_responder(p.root, p.run_root + "/network", n.name, n.gateway));
  return a;
}

// The networks `network connect` added to a record, in order.
std::vector<std::string> connected_networks(const nlohmann::json& record_network) {
  return listed(record_network, "connected");
}

base::Result<Attachment> wire(const NetworkPaths& p, const std::string& id, const std::string& name,
                              const nlohmann::json& record_network, const std::string& dir) {
  Networks networks(p.root);
  Netlink host = TRY(Netlink::open());
  std::string ns = netns_path(p, id);
  (void)remove_netns_file(ns);  // a stale one, from a start that died
  TRY_STATUS(create_netns_file(ns));
  base::UniqueFd ns_fd = TRY(open_netns(ns));
  std::string first = record_network.value("name", std::string(kDefaultNetwork));
  Attachment a = TRY(wire_interface(p, networks, host, ns_fd.get(), id, name, first, 0,
                                    record_network.value("ports", nlohmann::json::array())));
  std::vector<std::string> more;
  int index = 0;
  for (const auto& extra : connected_networks(record_network))
    more.push_back(TRY(wire_interface(p, networks, host, ns_fd.get(), id, name, extra, ++index,
                                      nlohmann::json::array()))
                       .address);
  TRY_STATUS(write_name_files(dir, TRY(networks.get(first)), a, record_network, more));
  TRY_STATUS(sync_firewall(networks, p.run_root + "/network"));
  return a;
}

}  // namespace

std::string mac_of_address(const std::string& address) {
  in_addr a{};
  if (::inet_pton(AF_INET, address.c_str(), &a) != 1) return "";
  const auto* b = reinterpret_cast<const unsigned char*>(&a.s_addr);
  return fmt::format("02:42:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]);
}

std::string hosts_text(const std::string& address, const std::string& hostname,
                       const nlohmann::json& record_network, const std::string& gateway) {
  std::string out = fmt::format("127.0.0.1\tlocalhost\n::1\tlocalhost\n{}\t{}\n",
                                address.empty() ? "127.0.1.1" : address, hostname);
  for (const auto& entry : listed(record_network, "ExtraHosts")) {
    auto colon = entry.find(':');  // HOST:IP; an IPv6 address has colons of its own
    std::string ip = entry.substr(colon + 1);
    if (ip == "host-gateway") ip = gateway;  // docker's name for the host, from inside
    if (!ip.empty()) out += fmt::format("{}\t{}\n", ip, entry.substr(0, colon));
  }
  return out;
}

std::string resolv_conf_text(const std::string& host_conf, bool host_network,
                             const std::string& responder, const nlohmann::json& record_network) {
  auto servers = listed(record_network, "Dns");
  auto search = listed(record_network, "DnsSearch");
  auto options = listed(record_network, "DnsOptions");
  std::string out = responder.empty() ? "" : "nameserver " + responder + "\n";
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  std::istringstream in(host_conf);
  for (std::string line; std::getline(in, line);) {
    auto kind = [&](std::string_view word) {
      return line.rfind(word, 0) == 0 && line.size() > word.size() &&
             (line[word.size()] == ' ' || line[word.size()] == '\t');
    };
    if (kind("nameserver") && (!servers.empty() || !responder.empty() ||
                               (!host_network && line.find(" 127.") != std::string::npos)))
      continue;
    if ((kind("search") || kind("domain")) && !search.empty()) continue;
    if (kind("options") && !options.empty()) continue;
    out += line + "\n";
  }
  auto joined = [](const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) text += " " + w;
    return text;
  };
  if (!search.empty()) out += "search" + joined(search) + "\n";
  if (!options.empty()) out += "options" + joined(options) + "\n";
  return out;
}

std::string netns_path(const NetworkPaths& p, const std::string& id) {
  return p.run_root + "/netns/" + id;
}

base::Status join_network_of(const NetworkPaths& p, const ContainerRecord& rec,
                             const std::string& dir) {
  ContainerRecord other = TRY(find_container(p.root, rec.network["container"]));
  // Alive as its monitor's lock says (container_handle.h), never by a pid.
  if (other.state != "running" || !monitor_alive(container_dir(p.root, other.id)))
    return base::fail_msg(
        fmt::format("--network container:{}: that container is not running", other.name));
  std::string mode = other.network.value("mode", "");
  if (mode == "host")
    return base::fail_msg(fmt::format(
        "--network container:{}: it uses the host's network; use --network host", other.name));
  std::string path = netns_path(p, other.id);
  if (mode != "bridge") {
    // Its init as the runtime knows it (pid and start time), never a pid
    // from our record that a reboot or reuse may have given to another process.
    auto init = TRY(oci::load_record(p.run_root, other.id));
    if (!oci::init_alive(init))
      return base::fail_msg(
          fmt::format("--network container:{}: that container is not running", other.name));
    path = fmt::format("/proc/{}/ns/net", init.pid);
  }
  std::string config_path = dir + "/bundle/config.json";
  auto config = nlohmann::json::parse(TRY(base::read_text(config_path)), nullptr, false);
  if (config.is_discarded()) return base::fail_msg(config_path + ": not valid JSON");
  for (auto& n : config["linux"]["namespaces"])
    if (n["type"] == "network") n["path"] = path;
  TRY_STATUS(base::replace_file(config_path, config.dump(2)));
  std::string other_dir = container_dir(p.root, other.id);
  for (const char* f : {"/hosts", "/resolv.conf"}) {
    TRY_STATUS(base::replace_file(dir + f, base::read_text(other_dir + f).value_or("")));
    ::chmod((dir + f).c_str(), 0644);
  }
  return {};
}

namespace {

base::Result<nlohmann::json> network_mode(const NetworkPaths& p, const RunOptions& o,
                                          const nlohmann::json& image_config) {
  if (o.network == "none" || o.network == "host") {
    if (!o.publish.empty() || o.publish_all)
      return base::fail_msg(fmt::format(
          "-p/-P: --network {} has no ports to publish; use a bridge network", o.network));
    return nlohmann::json{{"mode", o.network}};
  }
  if (o.network.rfind("container:", 0) == 0) {
    if (!o.publish.empty() || o.publish_all)
      return base::fail_msg("-p/-P: a container sharing another's network publishes nothing");
    ContainerRecord other = TRY(find_container(p.root, o.network.substr(10)));
    return nlohmann::json{{"mode", "container"}, {"container", other.id}};
  }
  Networks networks(p.root);
  // "bridge" is docker's name for its default network.
  Network n = TRY(networks.get(o.network == "bridge" ? kDefaultNetwork : o.network));
  nlohmann::json ports = nlohmann::json::array();
  std::vector<PortMapping> mapped;
  for (const auto& text : o.publish) mapped.push_back(TRY(parse_port_mapping(text)));
  if (o.publish_all)
    for (auto& e : TRY(exposed_ports(image_config))) mapped.push_back(e);
  for (const auto& m : mapped) ports.push_back(to_json(m));
  return nlohmann::json{{"mode", "bridge"}, {"name", n.name}, {"ports", ports}};
}

}  // namespace

base::Result<nlohmann::json> plan_network(const NetworkPaths& p, const RunOptions& o,
                                          const nlohmann::json& image_config) {
  nlohmann::json out = TRY(network_mode(p, o, image_config));
  bool shared = out["mode"] == "container";
  if (shared &&
      (!o.add_hosts.empty() || !o.dns.empty() || !o.dns_search.empty() || !o.dns_options.empty()))
    return base::fail_msg(
        "--add-host/--dns: a container sharing another's network has that one's files");
  auto is_address = [](const std::string& ip) {
    in6_addr a{};
    return ::inet_pton(AF_INET, ip.c_str(), &a) == 1 || ::inet_pton(AF_INET6, ip.c_str(), &a) == 1;
  };
  for (const auto& h : o.add_hosts) {
    auto colon = h.find(':');
    std::string host = h.substr(0, colon);
    std::string ip = colon == std::string::npos ? "" : h.substr(colon + 1);
    bool name_ok = !host.empty() && host.size() <= 253;
    for (char c : host)
      name_ok = name_ok &&
                (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
    if (ip == "host-gateway" && out["mode"] != "bridge")
      return base::fail_msg(fmt::format("--add-host '{}': host-gateway needs a bridge network", h));
    if (!name_ok || (ip != "host-gateway" && !is_address(ip)))
      return base::fail_msg(fmt::format("--add-host '{}': must be HOST:IP", h));
  }
  for (const auto& d : o.dns)
    if (!is_address(d)) return base::fail_msg(fmt::format("--dns '{}': not an IP address", d));
  for (const auto& [key, values, flag] : {std::tuple{"Dns", &o.dns, "--dns"},
                                          {"DnsSearch", &o.dns_search, "--dns-search"},
                                          {"DnsOptions", &o.dns_options, "--dns-option"},
                                          {"ExtraHosts", &o.add_hosts, "--add-host"}}) {
    for (const auto& v : *values)
      if (v.empty() || v.find_first_of(" \t\n\r#;") != std::string::npos)
        return base::fail_msg(fmt::format("{} '{}': not a single word", flag, v));
    if (!values->empty()) out[key] = *values;
  }
  return out;
}

base::Result<Attachment> attach_network(const NetworkPaths& p, const std::string& id,
                                        const std::string& name,
                                        const nlohmann::json& record_network,
                                        const std::string& dir) {
  auto a = wire(p, id, name, record_network, dir);
  if (!a) (void)detach_network(p, id);
  return a;
}

base::Status detach_network(const NetworkPaths& p, const std::string& id) {
  Networks networks(p.root);
  base::Status first;
  auto keep_first = [&](base::Status s) {
    if (!s && first) first = std::move(s);
  };
  auto all = networks.attachments_of(id);
  if (!all.empty()) {
    auto host = Netlink::open();
    for (const auto& a : all) {
      keep_first(host ? host->delete_link(a.host_veth) : base::fail(host.error()));
      keep_first(networks.release(a.network, a.address));
    }
    keep_first(sync_firewall(networks, p.run_root + "/network"));
  }
  keep_first(remove_netns_file(netns_path(p, id)));
  return first;
}

base::Result<Attachment> connect_running(const NetworkPaths& p, const std::string& id,
                                         const std::string& name, const std::string& network,
                                         const std::string& dir) {
  Networks networks(p.root);
  int index = 0;
  for (const auto& a : networks.attachments_of(id))
    index = std::max(index, std::atoi(a.interface.c_str() + 3));
  if (++index > kMostInterfaces)
    return base::fail_msg(fmt::format("container {}: at most {} networks", name, kMostInterfaces));
  Netlink host = TRY(Netlink::open());
  base::UniqueFd ns_fd = TRY(open_netns(netns_path(p, id)));
  auto wired = wire_interface(p, networks, host, ns_fd.get(), id, name, network, index,
                              nlohmann::json::array());
  if (wired) {
    auto synced = sync_firewall(networks, p.run_root + "/network");
    if (!synced) wired = base::fail(std::move(synced).error());
  }
  if (!wired) {  // nothing half-made stays: its veth and its address go
    (void)host.delete_link(host_veth_name(id, index));
    for (const auto& a : networks.attachments_of(id))
      if (a.network == network) (void)networks.release(a.network, a.address);
    return wired;
  }
  // The running container's /etc/hosts is bind-mounted: appended in place.
  std::string line = fmt::format("{}\t{}\n", wired->address, hostname_of(dir));
  if (auto hosts = base::sys::open(dir + "/hosts", O_WRONLY | O_APPEND))
    (void)base::sys::write_all(hosts->get(), line.data(), line.size());
  return wired;
}

namespace {

// The lines for `address` taken out of the container's /etc/hosts, in place:
// it is bind-mounted, so a new file would not reach the container.
void drop_hosts_lines(const std::string& dir, const std::string& address) {
  auto text = base::read_text_capped(dir + "/hosts", size_t{1} << 20);
  if (!text) return;
  std::string kept;
  bool dropped = false;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(address + "\t", 0) == 0) {
      dropped = true;
      continue;
    }
    kept += line + "\n";
  }
  if (!dropped) return;
  if (auto fd = base::sys::open(dir + "/hosts", O_WRONLY | O_TRUNC))
    (void)base::sys::write_all(fd->get(), kept.data(), kept.size());
}

}  // namespace

base::Status disconnect_running(const NetworkPaths& p, const std::string& id,
                                const std::string& network, const std::string& dir) {
  Networks networks(p.root);
  for (const auto& a : networks.attachments_of(id)) {
    if (a.network != network) continue;
    Netlink host = TRY(Netlink::open());
    TRY_STATUS(host.delete_link(a.host_veth));
    TRY_STATUS(networks.release(a.network, a.address));
    drop_hosts_lines(dir, a.address);
  }
  return sync_firewall(networks, p.run_root + "/network");
}

}  // namespace berth
