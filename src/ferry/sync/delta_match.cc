#include "ferry/sync/delta_match.h"

#include <algorithm>
#include <limits>
#include <string>

#include "ferry/sync/delta_block_size.h"

namespace ferry::sync {
namespace {

constexpr size_t kFeedStep = size_t{1} << 20;  // new bytes taken into the buffer at a time
constexpr unsigned kMaxBits = 28;              // 2^28 buckets at most
constexpr uint64_t kFalseAlarmSlackBlocks = 64;

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return a / b + (a % b != 0);
}

}  // namespace

DeltaMatcher::DeltaMatcher(uint32_t block_size, uint64_t old_size, uint64_t window,
                           uint8_t strong_len)
    : block_size_(block_size_acceptable(block_size) ? block_size : 0),
      strong_len_(std::clamp<uint8_t>(strong_len, 1, 16)),
      window_(window),
      block_count_(block_size_ == 0 ? 0 : ceil_div(old_size, block_size_)),
      last_len_(block_count_ == 0
                    ? 0
                    : static_cast<uint32_t>(old_size - (block_count_ - 1) * block_size_)) {
  rebuild_index();
}

bool DeltaMatcher::ready_for(uint64_t new_end) const {
  if (added_ >= block_count_) return true;
  return added_ >= ceil_div(saturating_add(new_end, window_), block_size_);
}

uint32_t DeltaMatcher::block_len(uint64_t block) const {
  return block + 1 == block_count_ ? last_len_ : block_size_;
}

bool DeltaMatcher::in_window(uint64_t block, uint64_t new_pos) const {
  uint64_t old_pos = block * block_size_;
  return (old_pos > new_pos ? old_pos - new_pos : new_pos - old_pos) <= window_;
}

// Index: per bucket a chain of live blocks, oldest first, so eviction (always
// of the oldest live block) unlinks a chain's head in O(1).
void DeltaMatcher::link(uint64_t block) {
  Entry& e = entries_[block - first_];
  e.next = kNone;
  size_t b = bucket(e.weak);
  if (tails_[b] == kNone) {
    heads_[b] = block;
  } else {
    entries_[tails_[b] - first_].next = block;
  }
  tails_[b] = block;
  uint32_t h = (e.weak * kHashMul) >> (32 - bits_ - kFilterExtraBits);
  filter_[h >> 6] |= uint64_t{1} << (h & 63);
}

void DeltaMatcher::rebuild_index() {
  uint64_t live = added_ - floor_;
  unsigned bits = kMinBits;
  while (bits < kMaxBits && (uint64_t{1} << bits) < 2 * live) ++bits;
  bits_ = bits;
  heads_.assign(size_t{1} << bits_, kNone);
  tails_.assign(size_t{1} << bits_, kNone);
  filter_.assign(size_t{1} << (bits_ + kFilterExtraBits - 6), 0);
  for (uint64_t i = floor_; i < added_; ++i) link(i);
  filter_stale_ = 0;
}

void DeltaMatcher::add_blocks(std::span<const BlockSum> sums) {
  for (const BlockSum& s : sums) {
    if (added_ >= block_count_) return;  // more than the old file has: ignored
    entries_.push_back(Entry{s.weak, truncated(s.strong), kNone});
    ++added_;
    if (added_ - floor_ > (uint64_t{1} << bits_) / 2 && bits_ < kMaxBits) {
      rebuild_index();  // links the new block too
    } else {
      link(added_ - 1);
    }
  }
}

void DeltaMatcher::evict(uint64_t new_pos) {
  if (new_pos <= window_) return;
  // Block i lies behind for good once i * block_size < new_pos - window.
  uint64_t new_floor = std::min(added_, ceil_div(new_pos - window_, block_size_));
  for (; floor_ < new_floor; ++floor_) {
    const Entry& e = entries_[floor_ - first_];
    size_t b = bucket(e.weak);
    heads_[b] = e.next;
    if (e.next == kNone) tails_[b] = kNone;
    ++filter_stale_;
  }
  uint64_t dead = floor_ - first_;
  if (dead >= 4096 && dead >= entries_.size() / 2) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(dead));
    first_ = floor_;
  }
  if (filter_stale_ > std::max<uint64_t>(4096, added_ - floor_)) rebuild_index();
}

uint64_t DeltaMatcher::find_match(size_t p, uint32_t weak) {
  const uint64_t new_pos = base_ + p;
  const std::span<const uint8_t> window(buf_.data() + p, block_size_);
  // Strong hashes that fail are rationed, so weak collisions (chance or
  // crafted) cost at most kFalseAlarmRatio hashed bytes per scanned byte.
  const uint64_t allowance =
      saturating_add(new_pos > std::numeric_limits<uint64_t>::max() / kFalseAlarmRatio
                         ? std::numeric_limits<uint64_t>::max()
                         : new_pos * kFalseAlarmRatio,
                     kFalseAlarmSlackBlocks * block_size_);
  bool hashed = false;
  StrongSum strong;
  // 1: verified, 0: differs, -1: may not hash any more here.
  auto verify = [&](const Entry& e) -> int {
    if (!hashed) {
      if (false_alarm_bytes_ > allowance) return -1;
      strong = truncated_strong(window);
      hashed = true;
    }
    return e.strong == strong ? 1 : 0;
  };
  auto usable = [&](uint64_t block) {
    return block_len(block) == block_size_ && in_window(block, new_pos);
  };

  uint64_t want = prev_match_ == kNone ? kNone : prev_match_ + 1;
  if (want != kNone && want >= floor_ && want < added_) {
    const Entry& e = entries_[want - first_];
    if (e.weak == weak && usable(want)) {
      int v = verify(e);
      if (v > 0) return want;
      if (v < 0) return kNone;
    }
  }
  unsigned steps = 0;
  for (uint64_t i = heads_[bucket(weak)]; i != kNone && steps < kMaxCandidates; ++steps) {
    const Entry& e = entries_[i - first_];
    uint64_t old_pos = i * block_size_;
    if (old_pos > new_pos && old_pos - new_pos > window_) break;  // the rest lie further ahead
    if (e.weak == weak && i != want && usable(i)) {
      int v = verify(e);
      if (v > 0) return i;
      if (v < 0) return kNone;
    }
    i = e.next;
  }
  if (hashed) false_alarm_bytes_ += block_size_;
  return kNone;
}

base::Status DeltaMatcher::flush_copy(const DeltaSink& sink) {
  if (run_blocks_ == 0) return {};
  DeltaOp op{DeltaOp::Kind::copy, run_block_, run_blocks_, {}};
  run_blocks_ = 0;
  return sink(op);
}

base::Status DeltaMatcher::emit_literal(size_t end, const DeltaSink& sink) {
  if (lit_start_ >= end) return {};
  TRY_STATUS(flush_copy(sink));
  while (lit_start_ < end) {
    size_t n = std::min(end - lit_start_, kMaxLiteral);
    DeltaOp op{DeltaOp::Kind::literal, 0, 0, {buf_.data() + lit_start_, n}};
    literal_bytes_ += n;
    lit_start_ += n;
    TRY_STATUS(sink(op));
  }
  return {};
}

base::Status DeltaMatcher::take_match(size_t p, uint64_t block, uint32_t len,
                                      const DeltaSink& sink) {
  if (p > lit_start_) TRY_STATUS(emit_literal(p, sink));
  if (run_blocks_ > 0 && run_block_ + run_blocks_ == block &&
      run_blocks_ < std::numeric_limits<uint32_t>::max()) {
    ++run_blocks_;
  } else {
    TRY_STATUS(flush_copy(sink));
    run_block_ = block;
    run_blocks_ = 1;
  }
  matched_bytes_ += len;
  prev_match_ = block;
  pos_ = p + len;
  lit_start_ = pos_;
  sum_valid_ = false;
  pos_checked_ = false;
  return {};
}

base::Status DeltaMatcher::process(const DeltaSink& sink) {
  if (block_count_ == 0) {  // nothing to match: all literal
    pos_ = buf_.size();
    if (pos_ - lit_start_ >= kMaxLiteral) {
      TRY_STATUS(emit_literal(lit_start_ + (pos_ - lit_start_) / kMaxLiteral * kMaxLiteral, sink));
    }
    return {};
  }
  const uint32_t bs = block_size_;
  for (;;) {
    const size_t len = buf_.size();
    if (len - pos_ < bs) return {};
    evict(base_ + pos_);
    if (!sum_valid_ && prev_match_ != kNone) {
      // Right after a match, the next old block is the likely one: a strong
      // hash alone confirms it, without the weak sum. Costs one wasted hash
      // per run of matches at most.
      uint64_t want = prev_match_ + 1;
      if (want >= floor_ && want < added_ && block_len(want) == bs &&
          in_window(want, base_ + pos_) &&
          entries_[want - first_].strong == truncated_strong({buf_.data() + pos_, bs})) {
        TRY_STATUS(take_match(pos_, want, bs, sink));
        continue;
      }
    }
    if (!sum_valid_) {
      sum_.reset({buf_.data() + pos_, bs});
      sum_valid_ = true;
      pos_checked_ = false;
    }
    const size_t last = len - bs;  // the last window start the buffer holds
    if (pos_checked_) {
      if (pos_ == last) return {};  // rolling on needs more data
      sum_.roll(buf_[pos_], buf_[pos_ + bs]);
      ++pos_;
      pos_checked_ = false;
    }
    // The scan: the tight loop of the whole algorithm. Locals keep it in
    // registers; find_match never reallocates the index or the buffer.
    const size_t stop = std::min(last, lit_start_ + kMaxLiteral);
    const uint8_t* d = buf_.data();
    const uint64_t* filter = filter_.data();
    const unsigned shift = 32 - bits_ - kFilterExtraBits;
    RollingSum s = sum_;
    size_t p = pos_;
    uint64_t found = kNone;
    for (;;) {
      const uint32_t w = s.value();
      const uint32_t h = (w * kHashMul) >> shift;
      if ((filter[h >> 6] >> (h & 63)) & 1) [[unlikely]] {
        found = find_match(p, w);
        if (found != kNone) break;
      }
      if (p == stop) break;
      s.roll(d[p], d[p + bs]);
      ++p;
    }
    sum_ = s;
    pos_ = p;
    if (found != kNone) {
      TRY_STATUS(take_match(p, found, bs, sink));
      continue;
    }
    pos_checked_ = true;
    if (p - lit_start_ == kMaxLiteral) TRY_STATUS(emit_literal(p, sink));
  }
}

base::Status DeltaMatcher::feed(std::span<const uint8_t> data, const DeltaSink& sink) {
  if (finished_) return base::fail_msg("delta matcher: data fed after finish");
  if (failed_) return base::fail_msg("delta matcher: stopped by an earlier error");
  while (!data.empty()) {
    if (lit_start_ > 0) {  // drop what has been emitted
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(lit_start_));
      base_ += lit_start_;
      pos_ -= lit_start_;
      lit_start_ = 0;
    }
    size_t take = std::min(data.size(), kFeedStep);
    buf_.insert(buf_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    auto st = process(sink);
    if (!st) {
      failed_ = true;
      return st;
    }
  }
  return {};
}

base::Status DeltaMatcher::finish(const DeltaSink& sink) {
  if (finished_) return base::fail_msg("delta matcher: finished twice");
  if (failed_) return base::fail_msg("delta matcher: stopped by an earlier error");
  finished_ = true;
  const size_t len = buf_.size();
  // The old file's short last block matches only the very end of the new data.
  size_t tail = len;
  const uint64_t last = block_count_ == 0 ? kNone : block_count_ - 1;
  if (last != kNone && last_len_ < block_size_ && last >= floor_ && last < added_ &&
      len - lit_start_ >= last_len_) {
    size_t at = len - last_len_;
    std::span<const uint8_t> bytes(buf_.data() + at, last_len_);
    const Entry& e = entries_[last - first_];
    if (in_window(last, base_ + at) && e.weak == RollingSum::of(bytes) &&
        e.strong == truncated_strong(bytes)) {
      tail = at;
    }
  }
  auto st = emit_literal(tail, sink);
  if (st && tail < len) st = take_match(tail, last, last_len_, sink);
  if (st) st = flush_copy(sink);
  if (!st) failed_ = true;
  return st;
}

}  // namespace ferry::sync
