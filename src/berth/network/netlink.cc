#include "berth/network/netlink.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <sys/socket.h>

#include <thread>

#include <fmt/format.h>

#include "base/sys.h"

namespace berth {
namespace {

// libnl objects are reference counted; these drop our reference.
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;

base::Error nl_error(int rc, const std::string& what) {
  return base::Error::msg(fmt::format("{}: {}", what, nl_geterror(rc)));
}

base::Result<AddrPtr> parse_address(const std::string& text, const std::string& what) {
  nl_addr* a = nullptr;
  int rc = nl_addr_parse(text.c_str(), AF_INET, &a);
  if (rc < 0) return base::fail(nl_error(rc, fmt::format("{}: address '{}'", what, text)));
  return AddrPtr(a);
}

// "02:42:ac:1e:00:01" -> an address; "" -> none.
base::Result<AddrPtr> parse_mac(const std::string& text, const std::string& what) {
  if (text.empty()) return AddrPtr(nullptr);
  nl_addr* a = nullptr;
  int rc = nl_addr_parse(text.c_str(), AF_LLC, &a);
  if (rc < 0) return base::fail(nl_error(rc, fmt::format("{}: MAC address '{}'", what, text)));
  return AddrPtr(a);
}

base::Result<nl_sock*> connect_route_socket() {
  nl_sock* s = nl_socket_alloc();
  if (!s) return base::fail_msg("netlink: out of memory");
  if (int rc = nl_connect(s, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(s);
    return base::fail(nl_error(rc, "netlink: connect"));
  }
  return s;
}

}  // namespace

void Netlink::SocketFree::operator()(nl_sock* s) const {
  nl_socket_free(s);
}

base::Result<Netlink> Netlink::open() {
  return Netlink(TRY(connect_route_socket()));
}

base::Result<Netlink> Netlink::open_in(int netns_fd) {
  // A socket belongs to the namespace of the thread that made it; this
  // thread enters the namespace, makes it and ends.
  std::optional<base::Result<nl_sock*>> made;
  std::thread([&] {
    if (auto s = base::sys::setns(netns_fd, CLONE_NEWNET, "container network namespace"); !s) {
      made.emplace(base::fail(std::move(s).error()));
      return;
    }
    made.emplace(connect_route_socket());
  }).join();
  return Netlink(TRY(std::move(*made)));
}

std::optional<int> Netlink::index_of(const std::string& name) const {
  rtnl_link* link = nullptr;
  if (rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &link) < 0) return std::nullopt;
  LinkPtr owned(link);
  return rtnl_link_get_ifindex(link);
}

base::Status Netlink::create_bridge(const std::string& name, unsigned mtu, const std::string& mac) {
  if (index_of(name)) return {};
  LinkPtr link(rtnl_link_bridge_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_mtu(link.get(), mtu);
  AddrPtr address = TRY(parse_mac(mac, name));
  if (address) rtnl_link_set_addr(link.get(), address.get());
  int rc = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (rc < 0 && rc != -NLE_EXIST) return base::fail(nl_error(rc, "create bridge " + name));
  return {};
}

base::Status Netlink::create_veth(const std::string& host_name, const std::string& master,
                                  const std::string& peer_name, int peer_netns_fd, unsigned mtu,
                                  const std::string& peer_mac) {
  auto master_index = index_of(master);
  if (!master_index) return base::fail_msg(fmt::format("bridge {} does not exist", master));
  LinkPtr veth(rtnl_link_veth_alloc());
  if (!veth) return base::fail_msg("netlink: out of memory");
  rtnl_link_set_name(veth.get(), host_name.c_str());
  rtnl_link_set_mtu(veth.get(), mtu);
  rtnl_link_set_master(veth.get(), *master_index);
  rtnl_link_set_flags(veth.get(), IFF_UP);
  rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
  rtnl_link_set_name(peer, peer_name.c_str());
  rtnl_link_set_mtu(peer, mtu);
  rtnl_link_set_ns_fd(peer, peer_netns_fd);
  auto mac = parse_mac(peer_mac, peer_name);
  if (mac && *mac) rtnl_link_set_addr(peer, mac->get());
  rtnl_link_put(peer);
  if (!mac) return base::fail(std::move(mac).error());
  int rc = rtnl_link_add(sock_.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (rc < 0) return base::fail(nl_error(rc, "create veth " + host_name));
  return {};
}

base::Status Netlink::set_up(const std::string& name) {
  rtnl_link* current = nullptr;
  int rc = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &current);
  if (rc < 0) return base::fail(nl_error(rc, "link " + name));
  LinkPtr owned(current);
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  rc = rtnl_link_change(sock_.get(), current, change.get(), 0);
  if (rc < 0) return base::fail(nl_error(rc, "set " + name + " up"));
  return {};
}

base::Status Netlink::add_address(const std::string& name, const std::string& cidr) {
  auto index = index_of(name);
  if (!index) return base::fail_msg(fmt::format("link {} does not exist", name));
  AddrPtr local = TRY(parse_address(cidr, name));
  std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
  rtnl_addr_set_ifindex(addr.get(), *index);
  rtnl_addr_set_local(addr.get(), local.get());
  int rc = rtnl_addr_add(sock_.get(), addr.get(), 0);
  if (rc < 0 && rc != -NLE_EXIST)
    return base::fail(nl_error(rc, fmt::format("add address {} to {}", cidr, name)));
  return {};
}

base::Status Netlink::add_default_route(const std::string& gateway, const std::string& device) {
  auto index = index_of(device);
  if (!index) return base::fail_msg(fmt::format("link {} does not exist", device));
  AddrPtr via = TRY(parse_address(gateway, device));
  AddrPtr any = TRY(parse_address("0.0.0.0/0", device));
  std::unique_ptr<rtnl_route, void (*)(rtnl_route*)> route(rtnl_route_alloc(), rtnl_route_put);
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_dst(route.get(), any.get());
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(hop, *index);
  rtnl_route_nh_set_gateway(hop, via.get());
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns it now
  int rc = rtnl_route_add(sock_.get(), route.get(), NLM_F_CREATE);
  if (rc < 0 && rc != -NLE_EXIST)
    return base::fail(nl_error(rc, fmt::format("default route via {}", gateway)));
  return {};
}

base::Status Netlink::delete_link(const std::string& name) {
  rtnl_link* current = nullptr;
  if (rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &current) < 0) return {};  // gone
  LinkPtr owned(current);
  int rc = rtnl_link_delete(sock_.get(), current);
  if (rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND)
    return base::fail(nl_error(rc, "delete link " + name));
  return {};
}

}  // namespace berth
