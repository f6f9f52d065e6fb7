// The messages `ferry sync` adds to the protocol (docs/PROTOCOL.md, "Sync"):
// FILTER (the client's rules), SUM (a file's content hash before its ENTRY),
// SIGNATURE (blocks of the receiver's old file), DELTA (how to build the new
// file from the old one and literal bytes) and ITEM (one itemized change).
// Decoding validates lengths and enum values only; callers judge the rest
// (a block index against the old file, a rule's syntax).
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "ferry/xattrs.h"

namespace ferry {

using ContentHash = std::array<uint8_t, 16>;  // XXH3-128, big-endian (canonical form)

// FILTER: the client's filter rules in rsync's syntax, one rule a string.
inline constexpr size_t kMaxFilterRules = 10000;
struct FilterMsg {
  std::vector<std::string> rules;
};

// BACKUP: where an upload's receiver keeps what it replaces or deletes:
// beside it with `suffix` (dir empty), or in `dir` (relative to the target,
// never absolute, ".." allowed while it stays in the served directory).
inline constexpr size_t kMaxBackupDir = 4096;
struct BackupMsg {
  std::string suffix;  // at most 255 bytes, no '/'; not empty without a dir
  std::string dir;
};

// XATTRS (-X): the extended attributes of entry `id`, sent just before its
// ENTRY (and SUM). Names are 1 to 255 bytes with no NUL, values at most
// 64 KiB, at most 1024 pairs, sorted by name without repeats.
struct XattrsMsg {
  uint32_t id = 0;
  Xattrs attrs;
};

// SUM: the XXH3-128 of file `id`'s content, sent just before its ENTRY.
struct SumMsg {
  uint32_t id = 0;
  ContentHash hash{};
};

// SIGNATURE: block sums `first_block`.. of the receiver's old copy of `id`
// (old_size bytes in blocks of block_size). Each sum is a 4-byte weak sum
// and the first `strong_len` bytes of the block's XXH3-128.
struct SignatureMsg {
  uint32_t id = 0;
  uint32_t block_size = 0;
  uint64_t old_size = 0;
  uint64_t first_block = 0;
  uint8_t strong_len = 0;
  std::span<const uint8_t> sums;  // count * (4 + strong_len) bytes, aliasing the payload
};

// DELTA ops: copy `blocks` old blocks from `block`; literal bytes; the end,
// with the new file's XXH3-128.
// kZLiteral (with -z): a literal zstd-compressed; its length before, then after.
enum class DeltaOpCode : uint8_t { kCopy = 1, kLiteral = 2, kEnd = 3, kZLiteral = 4 };
struct DeltaZLiteral {
  uint32_t raw_len = 0;
  std::span<const uint8_t> packed;
};
struct DeltaCopy {
  uint64_t block = 0;
  uint32_t blocks = 0;
};
struct DeltaEnd {
  ContentHash hash{};
};

// ITEM: one line of itemized changes, as rsync's -i prints it.
struct ItemMsg {
  std::string line;
};

std::string encode(const FilterMsg& m);
base::Result<FilterMsg> decode_filter(std::span<const uint8_t> p);
std::string encode(const BackupMsg& m);
base::Result<BackupMsg> decode_backup(std::span<const uint8_t> p);
std::string encode(const XattrsMsg& m);
base::Result<XattrsMsg> decode_xattrs(std::span<const uint8_t> p);
std::string encode(const SumMsg& m);
base::Result<SumMsg> decode_sum(std::span<const uint8_t> p);
// The header; the sums follow (append them after it).
std::string encode_signature_header(const SignatureMsg& m);
base::Result<SignatureMsg> decode_signature(std::span<const uint8_t> p);
std::string encode(const ItemMsg& m);
base::Result<ItemMsg> decode_item(std::span<const uint8_t> p);

// A DELTA frame: `id u32` then ops. The writer appends ops to a payload.
void begin_delta(std::string& payload, uint32_t id);
void append_copy(std::string& payload, const DeltaCopy& c);
void append_literal(std::string& payload, std::span<const uint8_t> bytes);
void append_end(std::string& payload, const DeltaEnd& e);
void append_zliteral(std::string& payload, uint32_t raw_len, std::span<const uint8_t> packed);
inline constexpr size_t kDeltaCopySize = 13;    // op, block u64, blocks u32
inline constexpr size_t kDeltaLiteralHead = 5;  // op, length u32
inline constexpr size_t kDeltaEndSize = 17;     // op, hash

// Reads a DELTA frame's ops in order.
class DeltaReader {
 public:
  explicit DeltaReader(std::span<const uint8_t> payload) : p_(payload) {}
  base::Result<uint32_t> id();
  // The next op's code, or nullopt at the end of the payload.
  base::Result<std::optional<DeltaOpCode>> next();
  base::Result<DeltaCopy> copy();
  base::Result<std::span<const uint8_t>> literal();
  base::Result<DeltaEnd> end();
  base::Result<DeltaZLiteral> zliteral();

 private:
  std::span<const uint8_t> p_;
  size_t pos_ = 0;
  base::Result<std::span<const uint8_t>> take(size_t n);
};

}  // namespace ferry
