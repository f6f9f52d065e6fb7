#include "berth/container/attach_frames.h"

#include <algorithm>

namespace berth::attach {

void encode(Kind kind, const char* data, size_t n, std::string& out) {
  do {
    size_t part = std::min(n, kMostPayload);
    auto len = static_cast<uint32_t>(part);
    char header[kHeader] = {static_cast<char>(kind), static_cast<char>(len & 0xff),
                            static_cast<char>((len >> 8) & 0xff),
                            static_cast<char>((len >> 16) & 0xff),
                            static_cast<char>((len >> 24) & 0xff)};
    out.append(header, kHeader);
    out.append(data, part);
    data += part;
    n -= part;
  } while (n > 0);
}

std::optional<Frame> Decoder::next() {
  if (broken_ || buf_.size() - at_ < kHeader) return std::nullopt;
  auto byte = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(buf_[at_ + i]));
  };
  uint8_t kind = static_cast<uint8_t>(byte(0));
  uint32_t len = byte(1) | byte(2) << 8 | byte(3) << 16 | byte(4) << 24;
  bool known = kind <= 3 || kind == static_cast<uint8_t>(Kind::kExit);
  if (!known || len > kMostPayload) {
    broken_ = true;
    buf_.clear();
    at_ = 0;
    return std::nullopt;
  }
  if (buf_.size() - at_ < kHeader + len) return std::nullopt;
  Frame f{static_cast<Kind>(kind), buf_.substr(at_ + kHeader, len)};
  at_ += kHeader + len;
  return f;
}

}  // namespace berth::attach
