// Links, addresses and routes through rtnetlink (libnl-route-3): what
// `ip link/addr/route` would do, without running them. One Netlink is one
// socket, bound to the network namespace it was opened in.
// Every call is idempotent where that is natural: creating what exists, or
// deleting what is gone, succeeds. Errors name the link and the operation.
// Thread-safety: one Netlink per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

struct nl_sock;

namespace berth {

class Netlink {
 public:
  // A socket in the calling thread's network namespace.
  static base::Result<Netlink> open();
  // A socket in the namespace `netns_fd` refers to (opened on a helper thread).
  static base::Result<Netlink> open_in(int netns_fd);

  std::optional<int> index_of(const std::string& name) const;
  // A bridge (an L2 switch) with this MTU: created if missing. With `mac`
  // its address is set, and stays: a bridge left to itself takes the
  // lowest address of its ports, so a port that comes (a container that
  // starts) could change the gateway's MAC under every other container.
  base::Status create_bridge(const std::string& name, unsigned mtu, const std::string& mac = "");
  // A veth pair: `host_name` here, enslaved to `master` and up; `peer_name`
  // created directly in the namespace `peer_netns_fd`. Both get `mtu`;
  // the peer gets `peer_mac` ("02:42:ac:1e:00:02"; "": one the kernel picks).
  base::Status create_veth(const std::string& host_name, const std::string& master,
                           const std::string& peer_name, int peer_netns_fd, unsigned mtu,
                           const std::string& peer_mac = "");
  base::Status set_up(const std::string& name);
  // `cidr`: "10.1.2.3/24".
  base::Status add_address(const std::string& name, const std::string& cidr);
  base::Status add_default_route(const std::string& gateway, const std::string& device);
  base::Status delete_link(const std::string& name);

 private:
  struct SocketFree {
    void operator()(nl_sock* s) const;
  };
  explicit Netlink(nl_sock* s) : sock_(s) {}
  std::unique_ptr<nl_sock, SocketFree> sock_;
};

}  // namespace berth
