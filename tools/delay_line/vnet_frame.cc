#include "tools/delay_line/vnet_frame.h"

#include <cstring>

namespace delay_line {
namespace {

// struct virtio_net_hdr and its constants, as <linux/virtio_net.h> has them
// (that header does not compile as C++: a field is named `class`).
struct VnetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
constexpr uint8_t kNeedsCsum = 1;  // kNeedsCsum
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcpV4 = 1;
constexpr uint8_t kGsoTcpV6 = 4;
constexpr uint8_t kGsoEcn = 0x80;

}  // namespace

uint64_t wire_bytes(std::span<const uint8_t> frame) {
  static_assert(sizeof(VnetHeader) == kVnetHeaderSize);
  if (frame.size() < kVnetHeaderSize) return 0;
  VnetHeader h{};
  std::memcpy(&h, frame.data(), sizeof h);
  std::span<const uint8_t> packet = frame.subspan(kVnetHeaderSize);
  uint64_t len = packet.size();
  uint8_t type = h.gso_type & ~kGsoEcn;
  if (type == kGsoNone || h.gso_size == 0) return len;
  // Headers repeated per segment: IP + TCP up to the payload. The TCP
  // header starts at csum_start; its length is in its data offset field.
  uint64_t headers = h.hdr_len;
  if ((type == kGsoTcpV4 || type == kGsoTcpV6) && (h.flags & kNeedsCsum) &&
      h.csum_start + 13u <= len)
    headers = h.csum_start + 4u * (packet[h.csum_start + 12u] >> 4);
  if (headers >= len) return len;
  uint64_t segments = (len - headers + h.gso_size - 1) / h.gso_size;
  return len + (segments - 1) * headers;
}

}  // namespace delay_line
