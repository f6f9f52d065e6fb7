// Ferry frame types and their size caps (docs/PROTOCOL.md is the spec).
// Every frame is an 8-byte header — type (u8), flags (u8, 0), reserved (u16,
// 0), payload length (u32, big-endian) — followed by the payload. A frame of
// unknown type or over its type's cap ends the connection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry {

inline constexpr uint16_t kProtocolVersion = 2;
inline constexpr size_t kFrameHeaderSize = 8;
// Payload bytes in one DATA frame (and the resume block size).
inline constexpr uint32_t kChunkSize = 1u << 20;
// DATA payload prefix: id (u32), offset (u64), xxh3 (u64).
inline constexpr size_t kDataPrefixSize = 20;
// SIGNATURE payload prefix: id (u32), block size (u32), old size (u64),
// first block (u64), strong length (u8).
inline constexpr size_t kSignatureHeaderSize = 25;
// DATA_Z payload prefix: DATA's, then the data's length before compression (u32).
inline constexpr size_t kDataZPrefixSize = kDataPrefixSize + 4;
// PACKED: zstd-compressed small frames, unpacked at most this large.
inline constexpr size_t kMaxUnpacked = 1u << 20;
// Parallel TCP streams one transfer may use (-P).
inline constexpr uint8_t kMaxStreams = 16;

enum class FrameType : uint8_t {
  kHello = 0x01,
  kChallenge = 0x02,
  kAuth = 0x03,
  kWelcome = 0x04,
  kError = 0x05,
  kPut = 0x10,
  kGet = 0x11,
  kAccept = 0x12,
  kJoin = 0x13,
  kFilter = 0x14,
  kBackup = 0x15,
  kEntry = 0x20,
  kWant = 0x21,
  kData = 0x22,
  kFileEnd = 0x23,
  kRetry = 0x24,
  kDone = 0x25,
  kResult = 0x26,
  kSignature = 0x27,
  kDelta = 0x28,
  kSum = 0x29,
  kItem = 0x2a,
  kPacked = 0x2b,
  kDataZ = 0x2c,
  kXattrs = 0x2d,
  kStats = 0x30,
};

// Writes the 8-byte header of a frame of `type` carrying `payload_len` bytes.
void encode_frame_header(uint8_t* out, FrameType type, uint32_t payload_len);

// The largest payload a frame of this type may carry; 0 for unknown types.
uint32_t max_payload(uint8_t type);
const char* frame_name(FrameType type);

}  // namespace ferry
