// DeltaMatcher — the sender's half of rsync's delta algorithm. Given the
// signatures of the receiver's old file (BlockSums, in block order) and the
// bytes of the new file (in order, any chunking), it emits the new file as a
// sequence of ops: literal bytes, and copies of runs of old blocks.
//
// Matching: the weak rolling sum is taken at every offset of the new data not
// covered by a match; weak hits are verified with the strong XXH3-128. The
// block after the previous match is preferred, so runs stay contiguous. After
// a match the scan jumps a whole block. The old file's short last block
// matches only the very end of the new data.
//
// Window: an old block at offset o can match new data at offset p only when
// |o - p| <= window. Blocks that fall behind (o < p - window) are evicted, so
// memory holds the blocks of about 2 * window bytes, never the whole file.
// ready_for(end) says whether every block that could match new data below
// `end` has been added; the caller adds blocks until it is true before
// feeding that data (feeding earlier loses matches, never correctness).
//
// Ops are emitted in new-file order: applying them in order rebuilds the new
// file exactly. Literal spans are at most kMaxLiteral bytes and alias the
// matcher's own buffer: valid only during the callback. Adjacent copies are
// merged (blocks > 1). An error from the sink stops the matcher and is
// returned as is.
//
// Hostile or degenerate signatures (many blocks with one weak sum) cannot make
// it quadratic: at most kMaxCandidates chain entries are looked at per offset,
// and strong hashes that fail to verify are rationed to kFalseAlarmRatio bytes
// hashed per byte scanned; past that, weak hits go unverified until the scan
// has earned more (a missed match, never a wrong one). Right after a match
// the next old block is tried by its strong hash alone (one hash per match).
// A copy run is held back until a literal, a non-adjacent copy or finish().
// A block_size of 0 or above kMaxBlockSize means no usable blocks: everything
// becomes literal. Sums beyond block_count() are ignored.
// Thread-safety: one thread at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/error.h"
#include "ferry/sync/delta_signature.h"

namespace ferry::sync {

struct DeltaOp {
  enum class Kind { copy, literal } kind;
  uint64_t block = 0;                // copy: the first old block
  uint32_t blocks = 0;               // copy: how many consecutive old blocks
  std::span<const uint8_t> literal;  // literal: the bytes (valid during the callback)
};

using DeltaSink = std::function<base::Status(const DeltaOp&)>;

class DeltaMatcher {
 public:
  static constexpr size_t kMaxLiteral = size_t{1} << 20;
  static constexpr unsigned kMaxCandidates = 64;
  static constexpr uint64_t kFalseAlarmRatio = 8;

  // old_size: the receiver's old file size; block_size as the receiver chose;
  // window: how far (bytes) from the current position in the new file an old
  // block may lie and still be matched (UINT64_MAX: no limit); strong_len:
  // how many leading bytes of each strong sum count (1..16; the receiver
  // sends only those, and checks the whole file's hash at the end).
  DeltaMatcher(uint32_t block_size, uint64_t old_size, uint64_t window, uint8_t strong_len = 16);

  // The next blocks' sums, in order.
  void add_blocks(std::span<const BlockSum> sums);
  uint64_t blocks_added() const { return added_; }
  // Total expected: ceil(old_size / block_size).
  uint64_t block_count() const { return block_count_; }
  // True when every block whose old offset is < new_end + window has been
  // added (or all blocks have).
  bool ready_for(uint64_t new_end) const;

  // The new file's next bytes. Emits every op it can decide on.
  base::Status feed(std::span<const uint8_t> data, const DeltaSink& sink);
  // The end of the new file: emits the remaining ops. feed() and finish()
  // fail after it.
  base::Status finish(const DeltaSink& sink);

  uint64_t matched_bytes() const { return matched_bytes_; }
  uint64_t literal_bytes() const { return literal_bytes_; }
  // Blocks currently indexed (added and not evicted): the memory bound.
  uint64_t blocks_live() const { return added_ - floor_; }
  // Bytes hashed strongly without a match (weak false alarms), for tests.
  uint64_t false_alarm_bytes() const { return false_alarm_bytes_; }

 private:
  static constexpr uint64_t kNone = ~uint64_t{0};
  struct Entry {
    uint32_t weak;
    StrongSum strong;
    uint64_t next;  // the next newer block in the same bucket, or kNone
  };

  base::Status process(const DeltaSink& sink);
  // The old block matching the window at buffer position `p` (weak sum
  // `weak`), or kNone.
  uint64_t find_match(size_t p, uint32_t weak);
  base::Status take_match(size_t p, uint64_t block, uint32_t len, const DeltaSink& sink);
  base::Status emit_literal(size_t end, const DeltaSink& sink);
  base::Status flush_copy(const DeltaSink& sink);
  void evict(uint64_t new_pos);
  void rebuild_index();
  void link(uint64_t block);
  bool in_window(uint64_t block, uint64_t new_pos) const;
  uint32_t block_len(uint64_t block) const;
  size_t bucket(uint32_t weak) const { return (weak * kHashMul) >> (32 - bits_); }
  // A strong sum cut to strong_len_ bytes (the rest zero), as stored.
  StrongSum truncated(StrongSum s) const {
    std::fill(s.begin() + strong_len_, s.end(), uint8_t{0});
    return s;
  }
  StrongSum truncated_strong(std::span<const uint8_t> bytes) const {
    return truncated(strong_sum(bytes));
  }

  static constexpr uint32_t kHashMul = 0x9e3779b1u;
  static constexpr unsigned kFilterExtraBits = 4;  // 16 filter bits per bucket
  static constexpr unsigned kMinBits = 10;

  uint32_t block_size_;
  uint8_t strong_len_;
  uint64_t window_;
  uint64_t block_count_;
  uint32_t last_len_;  // length of the last block (== block_size_ when full)

  // Blocks [first_, added_) are stored; [floor_, added_) are live (indexed).
  std::vector<Entry> entries_;
  uint64_t first_ = 0;
  uint64_t floor_ = 0;
  uint64_t added_ = 0;
  // Chains per bucket, oldest first: heads_/tails_ hold block numbers.
  unsigned bits_ = kMinBits;
  std::vector<uint64_t> heads_;
  std::vector<uint64_t> tails_;
  std::vector<uint64_t> filter_;  // bit set per weak hash; may hold evicted blocks' bits
  uint64_t filter_stale_ = 0;     // blocks evicted since the filter was built

  // New data: buf_[0] is new-file offset base_. [lit_start_, pos_) is the
  // pending literal; the window being scanned starts at pos_.
  std::vector<uint8_t> buf_;
  uint64_t base_ = 0;
  size_t lit_start_ = 0;
  size_t pos_ = 0;
  RollingSum sum_;
  bool sum_valid_ = false;    // sum_ is the window at pos_
  bool pos_checked_ = false;  // the window at pos_ was looked up and did not match

  uint64_t run_block_ = 0;  // pending copy run
  uint32_t run_blocks_ = 0;
  uint64_t prev_match_ = kNone;

  uint64_t matched_bytes_ = 0;
  uint64_t literal_bytes_ = 0;
  uint64_t false_alarm_bytes_ = 0;
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace ferry::sync
