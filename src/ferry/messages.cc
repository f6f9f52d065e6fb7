#include "ferry/messages.h"

#include <cstring>

#include <fmt/format.h>

#include "ferry/codec.h"
#include "ferry/frame.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace {
constexpr char kMagic[8] = {'F', 'E', 'R', 'R', 'Y', 0, 0, 0};

template <size_t N>
void put_array(Encoder& e, const std::array<uint8_t, N>& a) {
  e.raw(std::string_view(reinterpret_cast<const char*>(a.data()), N));
}
template <size_t N>
base::Status get_array(Decoder& d, std::array<uint8_t, N>* a) {
  auto s = TRY(d.bytes(N));
  std::memcpy(a->data(), s.data(), N);
  return {};
}
base::Result<uint8_t> check_streams(uint8_t n) {
  if (n < 1 || n > kMaxStreams)
    return base::fail_msg(fmt::format("stream count {} outside 1..{}", n, kMaxStreams));
  return n;
}

// Unknown bits are refused, so a client never mistakes a server that ignored
// a request (a sync's deletions, say) for one that did it.
base::Status check_flags(uint32_t flags) {
  if (flags & ~kKnownFlags)
    return base::fail_msg(
        fmt::format("request flags {:#x} are not known to this server", flags & ~kKnownFlags));
  if ((flags & kSyncFlags) && !(flags & kFlagSync))
    return base::fail_msg("sync flags without the sync flag");
  return {};
}
}  // namespace

std::string encode(const Accept& m) {
  std::string out;
  Encoder e(&out);
  put_array(e, m.session);
  if (m.flags) e.u32(*m.flags);
  return out;
}

base::Result<Accept> decode_accept(std::span<const uint8_t> p) {
  Decoder d(p);
  Accept m;
  TRY_STATUS(get_array(d, &m.session));
  if (d.remaining() > 0) m.flags = TRY(d.u32());
  TRY_STATUS(d.finish("ACCEPT"));
  return m;
}

std::string encode(const Join& m) {
  std::string out;
  Encoder e(&out);
  put_array(e, m.session);
  e.u8(m.index);
  return out;
}

base::Result<Join> decode_join(std::span<const uint8_t> p) {
  Decoder d(p);
  Join m;
  TRY_STATUS(get_array(d, &m.session));
  m.index = TRY(d.u8());
  TRY_STATUS(d.finish("JOIN"));
  if (m.index < 1 || m.index >= kMaxStreams) return base::fail_msg("JOIN: bad stream index");
  return m;
}

std::string encode(const Hello& m) {
  std::string out;
  Encoder e(&out);
  e.raw(std::string_view(kMagic, sizeof kMagic));
  e.u16(m.version);
  e.u16(0);
  put_array(e, m.nonce);
  return out;
}

base::Result<Hello> decode_hello(std::span<const uint8_t> p) {
  Decoder d(p);
  std::string magic = TRY(d.raw(sizeof kMagic));
  if (std::memcmp(magic.data(), kMagic, sizeof kMagic) != 0)
    return base::fail_msg("not a ferry client (bad magic in HELLO)");
  Hello m;
  m.version = TRY(d.u16());
  TRY(d.u16());
  TRY_STATUS(get_array(d, &m.nonce));
  TRY_STATUS(d.finish("HELLO"));
  return m;
}

std::string encode(const Challenge& m) {
  std::string out;
  Encoder e(&out);
  e.u16(m.version);
  e.u16(0);
  put_array(e, m.nonce);
  return out;
}

base::Result<Challenge> decode_challenge(std::span<const uint8_t> p) {
  Decoder d(p);
  Challenge m;
  m.version = TRY(d.u16());
  TRY(d.u16());
  TRY_STATUS(get_array(d, &m.nonce));
  TRY_STATUS(d.finish("CHALLENGE"));
  return m;
}

std::string encode(const Auth& m) {
  std::string out;
  Encoder e(&out);
  put_array(e, m.mac);
  return out;
}

base::Result<Auth> decode_auth(std::span<const uint8_t> p) {
  Decoder d(p);
  Auth m;
  TRY_STATUS(get_array(d, &m.mac));
  TRY_STATUS(d.finish("AUTH"));
  return m;
}

std::string encode(const Welcome& m) {
  std::string out;
  Encoder e(&out);
  put_array(e, m.mac);
  e.u8(m.read_only ? 1 : 0);
  return out;
}

base::Result<Welcome> decode_welcome(std::span<const uint8_t> p) {
  Decoder d(p);
  Welcome m;
  TRY_STATUS(get_array(d, &m.mac));
  uint8_t flags = TRY(d.u8());
  m.read_only = (flags & 1) != 0;
  TRY_STATUS(d.finish("WELCOME"));
  return m;
}

std::string encode(const ErrorMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u16(m.code);
  e.str16(m.message.substr(0, 4000));
  return out;
}

namespace {
// A peer's one-line message, as it may be printed: control bytes escaped.
constexpr size_t kPeerTextMax = 1000;
}  // namespace

base::Result<ErrorMsg> decode_error(std::span<const uint8_t> p) {
  Decoder d(p);
  ErrorMsg m;
  m.code = TRY(d.u16());
  m.message = printable(TRY(d.str16()), kPeerTextMax);
  TRY_STATUS(d.finish("ERROR"));
  return m;
}

std::string encode(const Put& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.flags);
  e.u8(m.streams);
  e.u16(m.source_count);
  e.str16(m.target);
  return out;
}

base::Result<Put> decode_put(std::span<const uint8_t> p) {
  Decoder d(p);
  Put m;
  m.flags = TRY(d.u32());
  m.streams = TRY(check_streams(TRY(d.u8())));
  m.source_count = TRY(d.u16());
  m.target = TRY(d.str16());
  TRY_STATUS(d.finish("PUT"));
  TRY_STATUS(check_flags(m.flags));
  if (m.source_count == 0) return base::fail_msg("PUT names no sources");
  return m;
}

std::string encode(const Get& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.flags);
  e.u8(m.streams);
  e.u16(static_cast<uint16_t>(m.sources.size()));
  for (const auto& s : m.sources) e.str16(s);
  return out;
}

base::Result<Get> decode_get(std::span<const uint8_t> p) {
  Decoder d(p);
  Get m;
  m.flags = TRY(d.u32());
  m.streams = TRY(check_streams(TRY(d.u8())));
  uint16_t n = TRY(d.u16());
  if (n == 0) return base::fail_msg("GET names no sources");
  for (uint16_t i = 0; i < n; ++i) m.sources.push_back(TRY(d.str16()));
  TRY_STATUS(d.finish("GET"));
  TRY_STATUS(check_flags(m.flags));
  return m;
}

std::string encode(const Entry& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u8(static_cast<uint8_t>(m.kind));
  e.u8(m.flags);
  e.u32(m.mode);
  e.i64(m.mtime_sec);
  e.u32(m.mtime_nsec);
  e.u64(m.size);
  e.u32(m.uid);
  e.u32(m.gid);
  e.str16(m.path);
  e.str16(m.link_target);
  return out;
}

base::Result<Entry> decode_entry(std::span<const uint8_t> p) {
  Decoder d(p);
  Entry m;
  m.id = TRY(d.u32());
  uint8_t kind = TRY(d.u8());
  if (kind < 1 || kind > 4) return base::fail_msg(fmt::format("ENTRY: unknown kind {}", kind));
  m.kind = static_cast<EntryKind>(kind);
  m.flags = TRY(d.u8());
  m.mode = TRY(d.u32());
  if (m.mode & ~07777u) return base::fail_msg("ENTRY: mode has bits beyond 07777");
  m.mtime_sec = TRY(d.i64());
  m.mtime_nsec = TRY(d.u32());
  if (m.mtime_nsec >= 1000000000u) return base::fail_msg("ENTRY: mtime nanoseconds out of range");
  m.size = TRY(d.u64());
  if (m.size > (1ull << 62)) return base::fail_msg("ENTRY: size out of range");
  m.uid = TRY(d.u32());
  m.gid = TRY(d.u32());
  m.path = TRY(d.str16());
  m.link_target = TRY(d.str16());
  TRY_STATUS(d.finish("ENTRY"));
  // What symlink(2) can store whole: a NUL would cut the target short.
  if (m.kind == EntryKind::kSymlink &&
      (m.link_target.empty() || m.link_target.size() > kMaxLinkTarget ||
       m.link_target.find('\0') != std::string::npos))
    return base::fail_msg("ENTRY: a symlink's target must be 1 to 4095 bytes without NUL");
  if (m.kind == EntryKind::kHardLink && m.link_target.empty())
    return base::fail_msg("ENTRY: a hard link names the file it links to");
  if (m.kind != EntryKind::kSymlink && m.kind != EntryKind::kHardLink && !m.link_target.empty())
    return base::fail_msg("ENTRY: only a link has a link target");
  return m;
}

std::string encode(const Want& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u8(static_cast<uint8_t>(m.how));
  e.u32(static_cast<uint32_t>(m.have.size()));
  for (uint64_t h : m.have) e.u64(h);
  return out;
}

base::Result<Want> decode_want(std::span<const uint8_t> p) {
  Decoder d(p);
  Want m;
  m.id = TRY(d.u32());
  uint8_t how = TRY(d.u8());
  if (how > 3) return base::fail_msg(fmt::format("WANT: unknown kind {}", how));
  m.how = static_cast<WantHow>(how);
  uint32_t n = TRY(d.u32());
  if (n > 0 && m.how != WantHow::kBlocks) return base::fail_msg("WANT: hashes with no BLOCKS");
  if (n > d.remaining() / 8) return base::fail_msg("WANT: block count exceeds message");
  m.have.reserve(n);
  for (uint32_t i = 0; i < n; ++i) m.have.push_back(TRY(d.u64()));
  TRY_STATUS(d.finish("WANT"));
  return m;
}

void encode_data_header(uint8_t* prefix, const DataHeader& h) {
  store_be32(prefix, h.id);
  store_be64(prefix + 4, h.offset);
  store_be64(prefix + 12, h.hash);
}

base::Result<DataHeader> decode_data_header(std::span<const uint8_t> p) {
  if (p.size() < kDataPrefixSize) return base::fail_msg("DATA: message truncated");
  DataHeader h;
  h.id = load_be32(p.data());
  h.offset = load_be64(p.data() + 4);
  h.hash = load_be64(p.data() + 12);
  return h;
}

std::string encode(const FileEnd& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u8(static_cast<uint8_t>(m.status));
  e.u8(m.streams);
  e.str16(m.message.substr(0, 4000));
  return out;
}

base::Result<FileEnd> decode_file_end(std::span<const uint8_t> p) {
  Decoder d(p);
  FileEnd m;
  m.id = TRY(d.u32());
  uint8_t st = TRY(d.u8());
  if (st > 2) return base::fail_msg(fmt::format("FILE_END: unknown status {}", st));
  m.status = static_cast<FileEndStatus>(st);
  m.streams = TRY(d.u8());  // 0 marks the end of a re-send (see messages.h)
  if (m.streams > kMaxStreams) return base::fail_msg("FILE_END: stream count out of range");
  m.message = printable(TRY(d.str16()), kPeerTextMax);
  TRY_STATUS(d.finish("FILE_END"));
  return m;
}

std::string encode(const Retry& m) {
  std::string out;
  Encoder e(&out);
  e.u32(m.id);
  e.u64(m.offset);
  e.u32(m.length);
  return out;
}

base::Result<Retry> decode_retry(std::span<const uint8_t> p) {
  Decoder d(p);
  Retry m;
  m.id = TRY(d.u32());
  m.offset = TRY(d.u64());
  m.length = TRY(d.u32());
  TRY_STATUS(d.finish("RETRY"));
  if (m.length == 0 || m.length > kChunkSize) return base::fail_msg("RETRY: bad length");
  return m;
}

std::string encode(const ResultMsg& m) {
  std::string out;
  Encoder e(&out);
  e.u64(m.files);
  e.u64(m.bytes);
  e.u32(m.failed);
  e.str16(m.first_error.substr(0, 4000));
  return out;
}

base::Result<ResultMsg> decode_result(std::span<const uint8_t> p) {
  Decoder d(p);
  ResultMsg m;
  m.files = TRY(d.u64());
  m.bytes = TRY(d.u64());
  m.failed = TRY(d.u32());
  m.first_error = printable(TRY(d.str16()), kPeerTextMax);
  TRY_STATUS(d.finish("RESULT"));
  return m;
}

}  // namespace ferry
