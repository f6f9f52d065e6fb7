// TunDevice: a TUN device this process makes inside a named network
// namespace, held by its file descriptor. The device is not persistent: it
// disappears, with its address and routes, when the descriptor closes (when
// the object goes or the process ends) — that is the whole cleanup.
//
// Frames read from and written to fd() carry a struct virtio_net_hdr
// (IFF_VNET_HDR, see vnet_frame.h). With `tso`, the kernel may hand over
// TCP GSO super-packets of up to 64 KiB (TUNSETOFFLOAD: TUN_F_CSUM and
// TSO4/TSO6/ECN), so a 1 Gbit/s flow is a few thousand frames a second
// instead of 83,000; without it, every frame is one MTU-sized packet.
// Checksum offload is on either way.
// Thread-safety: one thread per object.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "tools/delay_line/cli_values.h"

namespace delay_line {

struct TunOptions {
  std::string netns;                  // a name under /run/netns
  std::string name;                   // the interface name (<= 15 bytes)
  std::optional<Ipv4Prefix> address;  // set on the device when given
  int mtu = 1500;
  bool tso = true;
};

class TunDevice {
 public:
  // Creates the device in o.netns, sets its offloads, MTU and address and
  // brings it up; this thread is back in its own namespace afterwards. The
  // descriptor is non-blocking.
  static base::Result<TunDevice> create(const TunOptions& o);

  int fd() const { return fd_.get(); }
  // "NAME in NETNS", for messages.
  const std::string& label() const { return label_; }

 private:
  TunDevice(base::UniqueFd fd, std::string label) : fd_(std::move(fd)), label_(std::move(label)) {}
  base::UniqueFd fd_;
  std::string label_;
};

}  // namespace delay_line
