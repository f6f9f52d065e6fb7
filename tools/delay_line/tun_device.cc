#include "tools/delay_line/tun_device.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <cstring>

#include "base/sys.h"
#include "tools/delay_line/netns_scope.h"
#include "tools/delay_line/vnet_frame.h"

namespace delay_line {
namespace {

struct ifreq request_for(const std::string& name) {
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof ifr.ifr_name - 1));
  return ifr;
}

void set_ipv4(struct sockaddr* out, uint32_t host_order) {
  struct sockaddr_in in {};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(host_order);
  std::memcpy(out, &in, sizeof in);
}

// The link's MTU, address and state, through an AF_INET socket made inside
// the device's namespace (as `ip` would, without netlink).
base::Status configure_link(const TunOptions& o, const std::string& label) {
  auto sock = TRY(base::sys::socket(AF_INET, SOCK_DGRAM, 0, label));
  struct ifreq ifr = request_for(o.name);
  ifr.ifr_mtu = o.mtu;
  TRY_STATUS(base::sys::ioctl(sock.get(), SIOCSIFMTU, &ifr, "SIOCSIFMTU", label));
  if (o.address) {
    ifr = request_for(o.name);
    set_ipv4(&ifr.ifr_addr, o.address->address);
    TRY_STATUS(base::sys::ioctl(sock.get(), SIOCSIFADDR, &ifr, "SIOCSIFADDR", label));
    ifr = request_for(o.name);
    set_ipv4(&ifr.ifr_netmask, o.address->length == 0 ? 0 : ~0u << (32 - o.address->length));
    TRY_STATUS(base::sys::ioctl(sock.get(), SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK", label));
  }
  ifr = request_for(o.name);
  TRY_STATUS(base::sys::ioctl(sock.get(), SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS", label));
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  TRY_STATUS(base::sys::ioctl(sock.get(), SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS", label));
  return {};
}

}  // namespace

base::Result<TunDevice> TunDevice::create(const TunOptions& o) {
  std::string label = o.name + " in " + o.netns;
  auto scope = TRY(NetnsScope::enter(o.netns));
  auto fd = TRY(base::sys::open("/dev/net/tun", O_RDWR | O_NONBLOCK));
  struct ifreq ifr = request_for(o.name);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  TRY_STATUS(base::sys::ioctl(fd.get(), TUNSETIFF, &ifr, "TUNSETIFF", label));
  int header_size = kVnetHeaderSize;
  TRY_STATUS(base::sys::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size, "TUNSETVNETHDRSZ", label));
  unsigned long offload = TUN_F_CSUM | (o.tso ? TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0);
  TRY_STATUS(base::sys::ioctl_value(fd.get(), TUNSETOFFLOAD, offload, "TUNSETOFFLOAD", label));
  TRY_STATUS(configure_link(o, label));
  TRY_STATUS(scope.leave());
  return TunDevice(std::move(fd), std::move(label));
}

}  // namespace delay_line
