// A frame as a TUN device with IFF_VNET_HDR reads and writes it: a
// struct virtio_net_hdr (10 bytes, in this host's byte order) and then one IP
// packet, which may be a GSO super-packet of up to 64 KiB that the kernel
// cuts into MTU-sized segments wherever it leaves a host. Written to another
// TUN device as it is, the super-packet arrives whole, as a GRO packet would.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace delay_line {

inline constexpr size_t kVnetHeaderSize = 10;  // sizeof(struct virtio_net_hdr)
// The largest frame: the header and an IP packet of 64 KiB.
inline constexpr size_t kMaxFrame = kVnetHeaderSize + 65536;

// The bytes `frame` puts on a wire: its IP packet, plus for a GSO
// super-packet the IP and TCP headers every segment after the first repeats
// (as tc counts a GSO packet). 0 for a frame too short to hold a header.
uint64_t wire_bytes(std::span<const uint8_t> frame);

}  // namespace delay_line
