// The sender's half of `ferry sync`: SUM frames and deltas (see SendSync).
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/content_hash.h"
#include "ferry/frame.h"
#include "ferry/sender.h"
#include "ferry/sync/delta_block_size.h"
#include "ferry/sync/delta_match.h"
#include "ferry/sync_messages.h"

namespace ferry {
namespace sys = base::sys;
namespace {
// How far from its old place a block may move and still be matched: a
// sixteenth of the old file, at least 64 MiB. The matcher holds the sums of
// about twice this much of the old file, and starts once the first window's
// sums are in, while the receiver is still reading the rest of its copy.
// At most 2^21 blocks either side (64 MiB of sums), whatever block size the
// receiver chose.
uint64_t delta_window(uint64_t old_size, uint32_t block_size) {
  return std::min<uint64_t>(std::max<uint64_t>(64ull << 20, old_size / 16),
                            uint64_t{block_size} << 21);
}
// A DELTA frame is sent once its ops reach this size.
constexpr size_t kDeltaFrameTarget = kChunkSize;

}  // namespace

base::Result<bool> Sender::open_announced(base::UniqueFd& file, const Entry& e) {
  if (file) return true;
  auto it = origins_.find(e.id);
  if (it == origins_.end()) return base::fail_msg(fmt::format("{}: not announced", e.path));
  auto fd = walk_.reopen(it->second.root_index, it->second.path_in_root);
  if (!fd) {
    errors_.push_back(fd.error().message());
    return false;
  }
  struct stat st = TRY(sys::fstat(fd->get(), e.path));
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != e.size ||
      st.st_mtim.tv_sec != e.mtime_sec || static_cast<uint32_t>(st.st_mtim.tv_nsec) != e.mtime_nsec)
    return false;
  file = std::move(*fd);
  return true;
}

base::Status Sender::send_sum(WalkItem& w) {
  if (!w.file) {
    auto fd = walk_.reopen(w.root_index, w.path_in_root);
    if (!fd) return base::fail(std::move(fd).error());
    w.file = std::move(*fd);
  }
  ContentHash h;
  {
    StageTimer t(&counters_.stages, Stage::kSourceRead);
    h = TRY(hash_file(w.file.get(), UINT64_MAX, w.entry.path));
  }
  return ch_.send(FrameType::kSum, encode(SumMsg{w.entry.id, h}));
}

base::Result<SignatureBatch> Sender::next_signature(uint32_t id) {
  for (;;) {
    if (auto b = replies_.pop_signature_for(std::chrono::milliseconds(50))) {
      if (b->id != id)
        return base::fail_msg(
            fmt::format("protocol error: {} sent signatures of file {} while {} was due",
                        ch_.peer(), b->id, id));
      return std::move(*b);
    }
    if (replies_.finished()) {
      if (auto e = replies_.error()) return base::fail(*e);
      return base::fail_msg("protocol error: the receiver finished during a delta");
    }
    TRY_STATUS(ch_.flush());
    TRY_STATUS(send_pending_stats());
  }
}

base::Status Sender::send_delta(Pending& p) {
  const Entry& e = p.entry;
  if (!TRY(open_announced(p.file, e))) {
    // Its signatures still come: take them before the next file's.
    SignatureBatch b = TRY(next_signature(e.id));
    uint64_t blocks = b.block_size == 0 ? 0 : (b.old_size + b.block_size - 1) / b.block_size;
    for (uint64_t got = b.sums.size(); got < blocks; got += b.sums.size())
      b = TRY(next_signature(e.id));
    counters_.files_done++;
    std::string msg = fmt::format("{}: changed before it was sent; not copied", e.path);
    errors_.push_back(msg);
    return send_file_end(e.id, FileEndStatus::kChanged, msg, /*spread=*/false);
  }
  int fd = p.file.get();
  SignatureBatch first = TRY(next_signature(e.id));
  if (first.first_block != 0 || !sync::block_size_acceptable(first.block_size))
    return base::fail_msg(
        fmt::format("protocol error: {} sent a malformed signature of {}", ch_.peer(), e.path));
  sync::DeltaMatcher matcher(first.block_size, first.old_size,
                             delta_window(first.old_size, first.block_size), first.strong_len);
  auto add = [&](const SignatureBatch& b) -> base::Status {
    if (b.block_size != first.block_size || b.old_size != first.old_size ||
        b.strong_len != first.strong_len || b.first_block != matcher.blocks_added() ||
        b.sums.size() > matcher.block_count() - matcher.blocks_added())
      return base::fail_msg(fmt::format("protocol error: {} sent signatures of {} that do not fit",
                                        ch_.peer(), e.path));
    matcher.add_blocks(b.sums);
    return {};
  };
  TRY_STATUS(add(first));

  std::string frame;
  begin_delta(frame, e.id);
  auto send_frame = [&]() -> base::Status {
    if (frame.size() <= 4) return {};
    TRY_STATUS(ch_.send(FrameType::kDelta, frame));
    begin_delta(frame, e.id);
    return send_pending_stats();
  };
  const uint64_t block = first.block_size;
  sync::DeltaSink sink = [&](const sync::DeltaOp& op) -> base::Status {
    if (op.kind == sync::DeltaOp::Kind::copy) {
      if (frame.size() + kDeltaCopySize > kDeltaFrameTarget) TRY_STATUS(send_frame());
      append_copy(frame, {op.block, op.blocks});
      counters_.bytes_skipped += std::min<uint64_t>(op.blocks * block, e.size);
      return {};
    }
    std::optional<std::span<const uint8_t>> packed;
    if (op.literal.size() >= 256 && compress_next()) {
      packed = TRY(compressor_->compress(op.literal));
      compression_.record(op.literal.size(), packed ? packed->size() : op.literal.size());
    } else {
      compression_.record(op.literal.size(), op.literal.size());
    }
    size_t need =
        packed ? kDeltaLiteralHead + 4 + packed->size() : kDeltaLiteralHead + op.literal.size();
    if (frame.size() + need > kDeltaFrameTarget) TRY_STATUS(send_frame());
    if (packed) {
      append_zliteral(frame, static_cast<uint32_t>(op.literal.size()), *packed);
      counters_.compressed_raw += op.literal.size();
      counters_.compressed_wire += packed->size();
    } else {
      append_literal(frame, op.literal);
    }
    counters_.bytes_moved += op.literal.size();
    return {};
  };

  ContentHasher hash = TRY(ContentHasher::make());
  if (e.size > kChunkSize) (void)sys::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<uint8_t> buf(kChunkSize);
  uint64_t pos = 0;
  bool shrank = false;
  while (pos < e.size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), e.size - pos));
    size_t got;
    {
      StageTimer t(&counters_.stages, Stage::kSourceRead);
      got = TRY(pread_full(fd, buf.data(), want, pos, e.path));
    }
    if (got < want) shrank = true;
    if (got == 0) break;
    hash.update(buf.data(), got);
    while (!matcher.ready_for(pos + got)) TRY_STATUS(add(TRY(next_signature(e.id))));
    TRY_STATUS(matcher.feed(std::span<const uint8_t>(buf.data(), got), sink));
    pos += got;
    if (shrank) break;
  }
  TRY_STATUS(matcher.finish(sink));
  // Signatures the match no longer needed are still on their way: take them,
  // so the next file's are not mistaken for this one's.
  while (matcher.blocks_added() < matcher.block_count()) TRY_STATUS(add(TRY(next_signature(e.id))));
  if (frame.size() + kDeltaEndSize > kDeltaFrameTarget) TRY_STATUS(send_frame());
  append_end(frame, {hash.digest()});
  TRY_STATUS(send_frame());

  return end_sent_file(fd, e, shrank, /*spread=*/false);
}

}  // namespace ferry
