#include "ferry/codec.h"

#include <fmt/format.h>

namespace ferry {

void store_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
void store_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
uint32_t load_be32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}
uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void Encoder::u16(uint16_t v) {
  u8(static_cast<uint8_t>(v >> 8));
  u8(static_cast<uint8_t>(v));
}
void Encoder::u32(uint32_t v) {
  uint8_t b[4];
  store_be32(b, v);
  out_->append(reinterpret_cast<const char*>(b), 4);
}
void Encoder::u64(uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  out_->append(reinterpret_cast<const char*>(b), 8);
}
void Encoder::str16(std::string_view bytes) {
  if (bytes.size() > 0xffff) bytes = bytes.substr(0, 0xffff);  // callers check; never overflow
  u16(static_cast<uint16_t>(bytes.size()));
  raw(bytes);
}

base::Result<std::span<const uint8_t>> Decoder::take(size_t n) {
  if (n > remaining())
    return base::fail_msg(
        fmt::format("message truncated: needed {} more bytes, {} left", n, remaining()));
  auto s = in_.subspan(pos_, n);
  pos_ += n;
  return s;
}

base::Result<uint8_t> Decoder::u8() {
  return TRY(take(1))[0];
}
base::Result<uint16_t> Decoder::u16() {
  auto s = TRY(take(2));
  return static_cast<uint16_t>((s[0] << 8) | s[1]);
}
base::Result<uint32_t> Decoder::u32() {
  return load_be32(TRY(take(4)).data());
}
base::Result<uint64_t> Decoder::u64() {
  return load_be64(TRY(take(8)).data());
}
base::Result<int64_t> Decoder::i64() {
  return static_cast<int64_t>(TRY(u64()));
}
base::Result<std::string> Decoder::raw(size_t n) {
  auto s = TRY(take(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}
base::Result<std::string> Decoder::str16() {
  return raw(TRY(u16()));
}

base::Status Decoder::finish(std::string_view what) const {
  if (remaining() != 0)
    return base::fail_msg(fmt::format("{}: {} unexpected trailing bytes", what, remaining()));
  return {};
}

}  // namespace ferry
