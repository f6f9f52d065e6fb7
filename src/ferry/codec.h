// Byte codec for ferry's wire format: big-endian integers and length-prefixed
// byte strings. Encoder appends to a std::string; Decoder reads from a span
// and fails (never reads past the end) on truncated or oversized input.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace ferry {

class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void raw(std::string_view bytes) { out_->append(bytes); }
  // u16 length then bytes; callers ensure size <= 65535 (checked, truncates never).
  void str16(std::string_view bytes);

 private:
  std::string* out_;
};

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> in) : in_(in) {}
  base::Result<uint8_t> u8();
  base::Result<uint16_t> u16();
  base::Result<uint32_t> u32();
  base::Result<uint64_t> u64();
  base::Result<int64_t> i64();
  base::Result<std::string> raw(size_t n);
  // The next `n` bytes, in place.
  base::Result<std::span<const uint8_t>> bytes(size_t n) { return take(n); }
  base::Result<std::string> str16();
  size_t remaining() const { return in_.size() - pos_; }
  std::span<const uint8_t> rest() const { return in_.subspan(pos_); }
  // Fails unless every byte was consumed.
  base::Status finish(std::string_view what) const;

 private:
  base::Result<std::span<const uint8_t>> take(size_t n);
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

// Big-endian stores and loads for fixed headers.
void store_be32(uint8_t* p, uint32_t v);
void store_be64(uint8_t* p, uint64_t v);
uint32_t load_be32(const uint8_t* p);
uint64_t load_be64(const uint8_t* p);

}  // namespace ferry
