#include "ferry/sync_messages.h"

#include <cstring>

#include <fmt/format.h>

#include "ferry/codec.h"
#include "ferry/frame.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace {
constexpr size_t kMaxRuleBytes = 4096;
constexpr size_t kMaxItemBytes = 4096 + 16;

void put_hash(Encoder& e, const ContentHash& h) {
  e.raw(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}
base::Status get_hash(Decoder& d, ContentHash* h) {
  auto b = TRY(d.bytes(h->size()));
  std::memcpy(h->data(), b.data(), h->size());
  return {};
}
}  // namespace

std::string encode(const FilterMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u16(static_cast<uint16_t>(m.rules.size()));
  for (const auto& r : m.rules) e.str16(r);
  return out;
}

base::Result<FilterMsg> decode_filter(std::span<const uint8_t> p) {
  Decoder d(p);
  FilterMsg m;
  uint16_t n = TRY(d.u16());
  if (n > kMaxFilterRules)
    return base::fail_msg(fmt::format("FILTER: {} rules, at most {}", n, kMaxFilterRules));
  for (uint16_t i = 0; i < n; ++i) {
    std::string r = TRY(d.str16());
    if (r.size() > kMaxRuleBytes || r.find('\0') != std::string::npos)
      return base::fail_msg(
          fmt::format("FILTER: rule {} is over {} bytes or holds a NUL", i + 1, kMaxRuleBytes));
    m.rules.push_back(std::move(r));
  }
  TRY_STATUS(d.finish("FILTER"));
  return m;
}

std::string encode(const BackupMsg& m) {
  std::string out;
  Encoder e(&out);
  e.str16(m.suffix);
  e.str16(m.dir);
  return out;
}

base::Result<BackupMsg> decode_backup(std::span<const uint8_t> p) {
  Decoder d(p);
  BackupMsg m;
  m.suffix = TRY_CTX(d.str16(), "BACKUP");
  m.dir = TRY_CTX(d.str16(), "BACKUP");
  TRY_STATUS(d.finish("BACKUP"));
  if (m.suffix.size() > 255 || m.suffix.find_first_of(std::string("/\0", 2)) != std::string::npos)
    return base::fail_msg("BACKUP: the suffix is over 255 bytes or holds a '/' or NUL");
  if (m.dir.size() > kMaxBackupDir || m.dir.find('\0') != std::string::npos)
    return base::fail_msg("BACKUP: the directory is over 4096 bytes or holds a NUL");
  if (m.dir.empty() && m.suffix.empty())
    return base::fail_msg("BACKUP: an empty suffix without a directory would replace the file");
  if (!m.dir.empty() && m.dir.front() == '/')
    return base::fail_msg("BACKUP: the directory must be relative to the target");
  return m;
}

std::string encode(const XattrsMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u16(static_cast<uint16_t>(m.attrs.size()));
  for (const auto& [name, value] : m.attrs) {
    e.str16(name);
    e.u32(static_cast<uint32_t>(value.size()));
    e.raw(value);
  }
  return out;
}

base::Result<XattrsMsg> decode_xattrs(std::span<const uint8_t> p) {
  Decoder d(p);
  XattrsMsg m;
  m.id = TRY(d.u32());
  uint16_t n = TRY(d.u16());
  if (n > kMaxXattrs)
    return base::fail_msg(fmt::format("XATTRS: {} attributes, at most {}", n, kMaxXattrs));
  for (uint16_t i = 0; i < n; ++i) {
    std::string name = TRY_CTX(d.str16(), "XATTRS");
    uint32_t len = TRY_CTX(d.u32(), "XATTRS");
    if (name.empty() || name.size() > kMaxXattrName || name.find('\0') != std::string::npos)
      return base::fail_msg("XATTRS: a name is empty, over 255 bytes or holds a NUL");
    if (len > kMaxXattrValue) return base::fail_msg("XATTRS: a value over 64 KiB");
    if (!m.attrs.empty() && m.attrs.back().first >= name)
      return base::fail_msg("XATTRS: names not sorted, or repeated");
    m.attrs.emplace_back(std::move(name), TRY_CTX(d.raw(len), "XATTRS"));
  }
  TRY_STATUS(d.finish("XATTRS"));
  return m;
}

std::string encode(const SumMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  put_hash(e, m.hash);
  return out;
}

base::Result<SumMsg> decode_sum(std::span<const uint8_t> p) {
  Decoder d(p);
  SumMsg m;
  m.id = TRY(d.u32());
  TRY_STATUS(get_hash(d, &m.hash));
  TRY_STATUS(d.finish("SUM"));
  return m;
}

std::string encode_signature_header(const SignatureMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u32(m.block_size);
  e.u64(m.old_size);
  e.u64(m.first_block);
  e.u8(m.strong_len);
  return out;
}

base::Result<SignatureMsg> decode_signature(std::span<const uint8_t> p) {
  Decoder d(p);
  SignatureMsg m;
  m.id = TRY(d.u32());
  m.block_size = TRY(d.u32());
  m.old_size = TRY(d.u64());
  m.first_block = TRY(d.u64());
  m.strong_len = TRY(d.u8());
  if (m.block_size == 0 || m.block_size > kChunkSize)
    return base::fail_msg(fmt::format("SIGNATURE: block size {} out of range", m.block_size));
  if (m.strong_len < 2 || m.strong_len > 16)
    return base::fail_msg(
        fmt::format("SIGNATURE: strong sum length {} out of range", m.strong_len));
  if (m.old_size > (1ull << 62)) return base::fail_msg("SIGNATURE: old size out of range");
  m.sums = d.rest();
  if (m.sums.size() % (4u + m.strong_len) != 0)
    return base::fail_msg("SIGNATURE: sums are not whole");
  return m;
}

std::string encode(const ItemMsg& m) {
  std::string out;
  Encoder e(&out);
  e.str16(m.line.size() > kMaxItemBytes ? m.line.substr(0, kMaxItemBytes) : m.line);
  return out;
}

base::Result<ItemMsg> decode_item(std::span<const uint8_t> p) {
  Decoder d(p);
  ItemMsg m;
  m.line = printable(TRY(d.str16()), kMaxItemBytes);
  TRY_STATUS(d.finish("ITEM"));
  return m;
}

void begin_delta(std::string& payload, uint32_t id) {
  payload.clear();
  Encoder e(&payload);
  e.u32(id);
}

void append_copy(std::string& payload, const DeltaCopy& c) {
  Encoder e(&payload);
  e.u8(static_cast<uint8_t>(DeltaOpCode::kCopy));
  e.u64(c.block);
  e.u32(c.blocks);
}

void append_literal(std::string& payload, std::span<const uint8_t> bytes) {
  Encoder e(&payload);
  e.u8(static_cast<uint8_t>(DeltaOpCode::kLiteral));
  e.u32(static_cast<uint32_t>(bytes.size()));
  e.raw(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void append_end(std::string& payload, const DeltaEnd& end) {
  Encoder e(&payload);
  e.u8(static_cast<uint8_t>(DeltaOpCode::kEnd));
  put_hash(e, end.hash);
}

void append_zliteral(std::string& payload, uint32_t raw_len, std::span<const uint8_t> packed) {
  Encoder e(&payload);
  e.u8(static_cast<uint8_t>(DeltaOpCode::kZLiteral));
  e.u32(raw_len);
  e.u32(static_cast<uint32_t>(packed.size()));
  e.raw(std::string_view(reinterpret_cast<const char*>(packed.data()), packed.size()));
}

base::Result<DeltaZLiteral> DeltaReader::zliteral() {
  auto head = TRY(take(8));
  DeltaZLiteral z;
  z.raw_len = load_be32(head.data());
  uint32_t n = load_be32(head.data() + 4);
  if (z.raw_len == 0 || z.raw_len > kChunkSize || n == 0)
    return base::fail_msg("DELTA: a compressed literal of a bad length");
  z.packed = TRY(take(n));
  return z;
}

base::Result<std::span<const uint8_t>> DeltaReader::take(size_t n) {
  if (n > p_.size() - pos_) return base::fail_msg("DELTA: op truncated");
  auto s = p_.subspan(pos_, n);
  pos_ += n;
  return s;
}

base::Result<uint32_t> DeltaReader::id() {
  return load_be32(TRY(take(4)).data());
}

base::Result<std::optional<DeltaOpCode>> DeltaReader::next() {
  if (pos_ == p_.size()) return std::optional<DeltaOpCode>();
  uint8_t code = TRY(take(1))[0];
  if (code < 1 || code > 4) return base::fail_msg(fmt::format("DELTA: unknown op {}", code));
  return std::optional<DeltaOpCode>(static_cast<DeltaOpCode>(code));
}

base::Result<DeltaCopy> DeltaReader::copy() {
  auto b = TRY(take(12));
  DeltaCopy c{load_be64(b.data()), load_be32(b.data() + 8)};
  if (c.blocks == 0) return base::fail_msg("DELTA: a copy of no blocks");
  return c;
}

base::Result<std::span<const uint8_t>> DeltaReader::literal() {
  uint32_t n = load_be32(TRY(take(4)).data());
  if (n == 0) return base::fail_msg("DELTA: an empty literal");
  return take(n);
}

base::Result<DeltaEnd> DeltaReader::end() {
  auto b = TRY(take(16));
  DeltaEnd e;
  std::memcpy(e.hash.data(), b.data(), e.hash.size());
  if (pos_ != p_.size()) return base::fail_msg("DELTA: ops after the end");
  return e;
}

}  // namespace ferry
