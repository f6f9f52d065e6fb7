#include "ferry/sender.h"

#include <sys/socket.h>

#include <cstring>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/chunk_hash.h"
#include "ferry/codec.h"
#include "ferry/frame.h"
#include "ferry/sync/delta_block_size.h"
#include "ferry/sync_messages.h"
#include "net/tcp_stats.h"

namespace ferry {
namespace sys = base::sys;
namespace {
// Files announced but not yet answered. Bounds open files on both sides.
constexpr size_t kWindow = 256;

}  // namespace

base::Result<size_t> Sender::pread_full(int fd, uint8_t* buf, size_t len, uint64_t offset,
                                        const std::string& what) {
  size_t done = 0;
  while (done < len) {
    size_t n = TRY(sys::pread(fd, buf + done, len - done, static_cast<off_t>(offset + done), what));
    if (n == 0) break;
    done += n;
  }
  return done;
}

Sender::Sender(Channel& channel, TreeWalk& walk, Counters& counters, std::vector<Channel*> extra)
    : ch_(channel), walk_(walk), counters_(counters) {
  all_.push_back(&ch_);
  all_.insert(all_.end(), extra.begin(), extra.end());
}

size_t Sender::pick(bool spread) {
  if (!spread) return 0;
  // The stream with the least waiting to go out (queued in ferry, or written
  // and not yet sent by TCP): one whose window can take data now. Not the
  // one with the most free buffer: autotuning grows only a busy stream's
  // buffer, so that choice would starve the others for good. Ties go round,
  // from the one after the last picked.
  size_t best = next_stream_ % all_.size();
  int64_t best_backlog = std::numeric_limits<int64_t>::max();
  for (size_t k = 0; k < all_.size(); ++k) {
    size_t i = (next_stream_ + k) % all_.size();
    int64_t backlog = i == 0 ? net::unsent_bytes(ch_.transport().socket_fd()) +
                                   static_cast<int64_t>(ch_.buffered_out())
                             : writers_[i - 1]->backlog();
    if (backlog < best_backlog) {
      best = i;
      best_backlog = backlog;
    }
  }
  next_stream_ = best + 1;
  return best;
}

void Sender::post_stats(const Sample& s) {
  std::lock_guard lock(stats_mu_);
  pending_stats_ = s.to_json().dump();
  stats_waiting_ = true;
}

base::Status Sender::send_pending_stats() {
  if (!stats_waiting_.load(std::memory_order_relaxed)) return {};
  std::string wire;
  {
    std::lock_guard lock(stats_mu_);
    wire.swap(pending_stats_);
    stats_waiting_ = false;
  }
  TRY_STATUS(ch_.send(FrameType::kStats, wire));
  return ch_.flush();
}

base::Status Sender::flush_all() {
  return ch_.flush();  // the extra streams' writers flush as they go
}

void Sender::read_replies() {
  for (;;) {
    auto frame = ch_.recv();
    if (!frame) {
      replies_.fail(std::move(frame).error());
      return;
    }
    base::Status st;
    switch (frame->type) {
      case FrameType::kWant: {
        auto w = decode_want(frame->payload);
        if (!w) {
          st = base::fail(std::move(w).error());
        } else {
          // Its signatures follow: only they are taken (see kSignature).
          if (w->how == WantHow::kDelta) signatures_due_[w->id] = kUnknownBlocks;
          replies_.push(std::move(*w));
        }
        break;
      }
      case FrameType::kRetry: {
        auto r = decode_retry(frame->payload);
        if (!r) {
          st = base::fail(std::move(r).error());
        } else {
          replies_.push(*r);
        }
        break;
      }
      case FrameType::kResult: {
        auto r = decode_result(frame->payload);
        if (!r) {
          st = base::fail(std::move(r).error());
          break;
        }
        replies_.finish(std::move(*r));
        return;
      }
      case FrameType::kError: {
        auto e = decode_error(frame->payload);
        replies_.fail(base::Error::msg(e ? fmt::format("{} reports: {}", ch_.peer(), e->message)
                                         : "peer sent a malformed ERROR"));
        return;
      }
      case FrameType::kSignature: {
        auto sig = decode_signature(frame->payload);
        if (!sig) {
          st = base::fail(std::move(sig).error());
          break;
        }
        // Only for a file the receiver answered WANT DELTA, no more blocks
        // than its old copy has, at least rsync's smallest block: a receiver
        // cannot make this side hold sums it did not ask for.
        auto due = signatures_due_.find(sig->id);
        if (!sync_ || due == signatures_due_.end() || sig->block_size < sync::kMinBlockSize) {
          st = base::fail_msg(
              fmt::format("{} sent signatures of file {} unasked", ch_.peer(), sig->id));
          break;
        }
        if (due->second == kUnknownBlocks)
          due->second = (sig->old_size + sig->block_size - 1) / sig->block_size;
        size_t count = sig->sums.size() / (4u + sig->strong_len);
        if (count > due->second) {
          st = base::fail_msg(fmt::format("{} sent more signatures of file {} than it has blocks",
                                          ch_.peer(), sig->id));
          break;
        }
        due->second -= count;
        if (due->second == 0) signatures_due_.erase(due);
        SignatureBatch b{sig->id,          sig->block_size, sig->old_size,
                         sig->first_block, sig->strong_len, {}};
        size_t per = 4u + sig->strong_len;
        b.sums.resize(sig->sums.size() / per);
        for (size_t i = 0; i < b.sums.size(); ++i) {
          const uint8_t* q = sig->sums.data() + i * per;
          b.sums[i].weak = load_be32(q);
          std::memcpy(b.sums[i].strong.data(), q + 4, sig->strong_len);
        }
        if (!replies_.push_signature(std::move(b)))
          st = base::fail_msg(
              fmt::format("{} sent signatures faster than they are used (over {} MiB waiting)",
                          ch_.peer(), kMaxQueuedSignatures >> 20));
        break;
      }
      case FrameType::kItem: {
        auto item = decode_item(frame->payload);
        if (!item) {
          st = base::fail(std::move(item).error());
        } else if (sync_ && sync_->on_item) {
          sync_->on_item(item->line);
        }
        break;
      }
      case FrameType::kStats: {
        auto j =
            nlohmann::json::parse(frame->payload.begin(), frame->payload.end(), nullptr, false);
        auto sample = Sample::from_json(j);
        if (!sample) {
          st = base::fail(std::move(sample).error());
        } else if (monitor_) {
          monitor_->add_peer(*sample);
        }
        break;
      }
      default:
        st = base::fail_msg(
            fmt::format("{} sent {} while receiving", ch_.peer(), frame_name(frame->type)));
    }
    if (!st) {
      replies_.fail(std::move(st).error().context("protocol error"));
      return;
    }
  }
}

base::Status Sender::announce_next(bool* walk_done) {
  base::Result<std::optional<WalkItem>> item;
  {
    // Walking the tree (readdir, stat, open) is reading the source too.
    StageTimer t(&counters_.stages, Stage::kSourceRead);
    item = walk_.next();
  }
  if (!item) {
    base::log::warn("{}", item.error().message());
    errors_.push_back(item.error().message());
    // Not read (EACCES, EIO, ...), as opposed to a vanished entry or a
    // FIFO, device or socket (skipped, as rsync skips them).
    int code = item.error().code();
    walk_failed_ = walk_failed_ || (code != 0 && code != ENOENT);
    return {};
  }
  if (!item->has_value()) {
    *walk_done = true;
    counters_.walk_finished = true;
    return {};
  }
  WalkItem& w = **item;
  w.entry.id = next_id_++;
  if (w.entry.path.size() > 65535 || w.entry.link_target.size() > 65535) {
    errors_.push_back(fmt::format("{}: name too long; skipped", w.entry.path));
    walk_failed_ = true;
    return {};
  }
  if (sync_ && sync_->xattrs && !w.xattrs.empty())
    TRY_STATUS(ch_.send(FrameType::kXattrs, encode(XattrsMsg{w.entry.id, std::move(w.xattrs)})));
  if (sync_ && sync_->checksum && w.entry.kind == EntryKind::kFile) TRY_STATUS(send_sum(w));
  TRY_STATUS(ch_.send(FrameType::kEntry, encode(w.entry)));
  counters_.files_seen++;
  if (w.entry.kind == EntryKind::kFile) {
    counters_.bytes_planned += w.entry.size;
    origins_.emplace(w.entry.id, Origin{w.root_index, w.path_in_root, w.entry.size});
    awaiting_.emplace(w.entry.id, Pending{std::move(w.file), std::move(w.entry)});
  } else {
    counters_.files_done++;
  }
  return {};
}

base::Status Sender::send_file_end(uint32_t id, FileEndStatus status, std::string message,
                                   bool spread) {
  FileEnd end{id, status, std::move(message), static_cast<uint8_t>(spread ? all_.size() : 1)};
  std::string wire = encode(end);
  TRY_STATUS(ch_.send(FrameType::kFileEnd, wire));
  if (!spread) return {};
  // After the file's chunks on every extra stream, in each one's order.
  for (auto& w : writers_) {
    StreamWriter::Buffer b = w->take_buffer(kFrameHeaderSize + wire.size());
    encode_frame_header(b.data.get(), FrameType::kFileEnd, static_cast<uint32_t>(wire.size()));
    std::memcpy(b.data.get() + kFrameHeaderSize, wire.data(), wire.size());
    b.len = kFrameHeaderSize + wire.size();
    TRY_STATUS(w->push(std::move(b)));
  }
  return {};
}

base::Result<size_t> Sender::read_chunk(int fd, const Entry& e, uint64_t offset, uint32_t chunk,
                                        uint8_t* payload) {
  size_t got;
  {
    StageTimer t(&counters_.stages, Stage::kSourceRead);
    got = TRY(pread_full(fd, payload + kDataPrefixSize, chunk, offset, e.path));
  }
  if (got > 0)
    encode_data_header(payload, {e.id, offset, chunk_hash(payload + kDataPrefixSize, got)});
  return got;
}

void Sender::set_sync(SendSync sync) {
  if (sync.compress != CompressMode::kOff) compressor_ = std::make_unique<ChunkCompressor>();
  compression_ = CompressionPolicy(sync.compress);
  sync_ = std::move(sync);
}

bool Sender::compress_next() {
  if (!compressor_) return false;
  if (monitor_ && compression_.mode() == CompressMode::kAuto) {
    auto [sender, receiver] = monitor_->latest();
    if (sender && !compression_.seen(*sender))
      compression_.observe(judge(sender, receiver), *sender);
  }
  return compression_.active();
}

base::Result<size_t> Sender::send_chunk_compressed(int fd, const Entry& e, uint64_t offset,
                                                   uint32_t chunk) {
  raw_chunk_.resize(kChunkSize);
  size_t got;
  {
    StageTimer t(&counters_.stages, Stage::kSourceRead);
    got = TRY(pread_full(fd, raw_chunk_.data(), chunk, offset, e.path));
  }
  if (got == 0) return got;
  std::span<const uint8_t> raw(raw_chunk_.data(), got);
  uint64_t hash = chunk_hash(raw.data(), raw.size());
  auto packed = TRY(compressor_->compress(raw));
  compression_.record(got, packed ? packed->size() : got);
  if (!packed) {
    uint8_t* p = TRY(ch_.begin_frame(FrameType::kData, kDataPrefixSize + got));
    encode_data_header(p, {e.id, offset, hash});
    std::memcpy(p + kDataPrefixSize, raw.data(), got);
    return got;
  }
  counters_.compressed_raw += got;
  counters_.compressed_wire += packed->size();
  uint8_t* p = TRY(ch_.begin_frame(FrameType::kDataZ, kDataZPrefixSize + packed->size()));
  encode_data_header(p, {e.id, offset, hash});
  store_be32(p + kDataPrefixSize, static_cast<uint32_t>(got));
  std::memcpy(p + kDataZPrefixSize, packed->data(), packed->size());
  return got;
}

base::Result<uint64_t> Sender::send_range(int fd, const Entry& e, uint64_t offset, uint64_t len,
                                          bool spread) {
  uint64_t sent = 0;
  while (sent < len) {
    auto chunk = static_cast<uint32_t>(std::min<uint64_t>(kChunkSize, len - sent));
    if (compress_next()) {  // on stream 0 only: compressed chunks are not spread
      size_t got = TRY(send_chunk_compressed(fd, e, offset + sent, chunk));
      TRY_STATUS(send_pending_stats());
      sent += got;
      counters_.bytes_moved += got;
      if (got < chunk) break;
      continue;
    }
    size_t stream = pick(spread);
    size_t got;
    if (stream == 0) {
      // The primary: this thread writes it, through its buffer.
      uint8_t* p = TRY(ch_.begin_frame(FrameType::kData, kDataPrefixSize + chunk));
      got = TRY(read_chunk(fd, e, offset + sent, chunk, p));
      if (got == 0) {
        ch_.cancel_last_frame();
        break;
      }
      if (got < chunk) ch_.shrink_last_frame(chunk - got);
      if (spread) TRY_STATUS(ch_.flush());  // out now, to the stream picked for its room
    } else {
      StreamWriter& w = *writers_[stream - 1];
      StreamWriter::Buffer b = w.take_buffer(kFrameHeaderSize + kDataPrefixSize + chunk);
      got = TRY(read_chunk(fd, e, offset + sent, chunk, b.data.get() + kFrameHeaderSize));
      if (got == 0) break;
      encode_frame_header(b.data.get(), FrameType::kData,
                          static_cast<uint32_t>(kDataPrefixSize + got));
      b.len = kFrameHeaderSize + kDataPrefixSize + got;
      TRY_STATUS(w.push(std::move(b)));
    }
    TRY_STATUS(send_pending_stats());
    compression_.record(got, got);
    sent += got;
    counters_.bytes_moved += got;
    if (got < chunk) break;
  }
  return sent;
}

base::Result<bool> Sender::send_block_if_changed(int fd, const Entry& e, uint64_t offset,
                                                 uint32_t len, uint64_t have_hash) {
  uint8_t* p = TRY(ch_.begin_frame(FrameType::kData, kDataPrefixSize + len));
  size_t got = TRY(pread_full(fd, p + kDataPrefixSize, len, offset, e.path));
  uint64_t h = chunk_hash(p + kDataPrefixSize, got);
  if (got == len && h == have_hash) {
    ch_.cancel_last_frame();
    counters_.bytes_skipped += len;
    return true;
  }
  if (got < len) ch_.shrink_last_frame(len - got);
  if (got == 0) {
    ch_.cancel_last_frame();
    return false;
  }
  encode_data_header(p, {e.id, offset, h});
  counters_.bytes_moved += got;
  return got == len;
}

base::Status Sender::send_stream(Pending& p) {
  const Entry& e = p.entry;
  uint64_t offset = 0;
  for (;;) {
    uint8_t* buf = TRY(ch_.begin_frame(FrameType::kData, kDataPrefixSize + kChunkSize));
    size_t got = 0;
    {
      StageTimer t(&counters_.stages, Stage::kSourceRead);
      while (got < kChunkSize) {
        size_t n = TRY(sys::read(p.file.get(), buf + kDataPrefixSize + got, kChunkSize - got,
                                 "standard input"));
        if (n == 0) break;
        got += n;
      }
    }
    if (got == 0) {
      ch_.cancel_last_frame();
      break;
    }
    if (got < kChunkSize) ch_.shrink_last_frame(kChunkSize - got);
    encode_data_header(buf, {e.id, offset, chunk_hash(buf + kDataPrefixSize, got)});
    TRY_STATUS(send_pending_stats());
    offset += got;
    counters_.bytes_moved += got;
    counters_.bytes_planned += got;
    if (offset > (1ull << 62)) return base::fail_msg("standard input: more than 2^62 bytes");
  }
  counters_.files_done++;
  return send_file_end(e.id, FileEndStatus::kOk, "", /*spread=*/false);
}

base::Status Sender::send_file(Pending& p, const Want& want) {
  const Entry& e = p.entry;
  if (e.flags & kEntryGrowing) return send_stream(p);
  if (!TRY(open_announced(p.file, e))) {
    counters_.files_done++;
    std::string msg = fmt::format("{}: changed before it was sent; not copied", e.path);
    errors_.push_back(msg);
    return send_file_end(e.id, FileEndStatus::kChanged, msg, /*spread=*/false);
  }
  int fd = p.file.get();
  if (e.size > kChunkSize) (void)sys::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t start = 0;
  bool shrank = false;
  // Spread a large file's chunks over every stream; small files stay on one.
  bool spread = all_.size() > 1 && e.size >= 4 * uint64_t{kChunkSize} &&
                compression_.mode() != CompressMode::kOn;
  if (want.how == WantHow::kBlocks) {
    uint64_t blocks = (e.size + kChunkSize - 1) / kChunkSize;
    if (want.have.size() > blocks)
      return base::fail_msg(fmt::format("receiver claims {} blocks of {}, which has {}",
                                        want.have.size(), e.path, blocks));
    for (size_t i = 0; i < want.have.size() && !shrank; ++i) {
      uint64_t off = i * uint64_t{kChunkSize};
      auto len = static_cast<uint32_t>(std::min<uint64_t>(kChunkSize, e.size - off));
      shrank = !TRY(send_block_if_changed(fd, e, off, len, want.have[i]));
    }
    start = want.have.size() * uint64_t{kChunkSize};
  }
  // Data extents only, so holes stay holes; a dense file is one extent.
  uint64_t pos = start;
  while (!shrank && pos < e.size) {
    uint64_t data = pos, end = e.size;
    if (e.flags & kEntrySparse) {
      off_t d = TRY(sys::lseek(fd, static_cast<off_t>(pos), SEEK_DATA, e.path));
      if (d < 0) break;  // only a hole remains
      off_t h = TRY(sys::lseek(fd, d, SEEK_HOLE, e.path));
      data = static_cast<uint64_t>(d);
      end = std::min<uint64_t>(static_cast<uint64_t>(h), e.size);
      if (data >= e.size) break;
    }
    uint64_t got = TRY(send_range(fd, e, data, end - data, spread));
    if (got < end - data) shrank = true;
    pos = end;
  }
  return end_sent_file(fd, e, shrank, spread);
}

base::Status Sender::end_sent_file(int fd, const Entry& e, bool shrank, bool spread) {
  struct stat st = TRY(sys::fstat(fd, e.path));
  bool changed = shrank || static_cast<uint64_t>(st.st_size) != e.size ||
                 st.st_mtim.tv_sec != e.mtime_sec ||
                 static_cast<uint32_t>(st.st_mtim.tv_nsec) != e.mtime_nsec;
  counters_.files_done++;
  if (changed) {
    std::string msg = fmt::format("{}: changed while being sent; not copied", e.path);
    errors_.push_back(msg);
    return send_file_end(e.id, FileEndStatus::kChanged, msg, spread);
  }
  return send_file_end(e.id, FileEndStatus::kOk, "", spread);
}

base::Status Sender::serve(const Reply& reply) {
  if (const Want* w = std::get_if<Want>(&reply)) {
    auto it = awaiting_.find(w->id);
    if (it == awaiting_.end())
      return base::fail_msg(
          fmt::format("protocol error: {} wants unknown file {}", ch_.peer(), w->id));
    Pending p = std::move(it->second);
    awaiting_.erase(it);
    if (w->how == WantHow::kSkip) {
      counters_.files_skipped++;
      counters_.files_done++;
      counters_.bytes_skipped += p.entry.size;
      return {};
    }
    if (w->how == WantHow::kDelta) {
      if (!sync_ || (p.entry.flags & kEntryGrowing))
        return base::fail_msg(
            fmt::format("protocol error: {} wants a delta it was not offered", ch_.peer()));
      return send_delta(p);
    }
    return send_file(p, *w);
  }
  const Retry& r = std::get<Retry>(reply);
  auto it = origins_.find(r.id);
  if (it == origins_.end() || r.offset + r.length > it->second.size)
    return base::fail_msg(
        fmt::format("protocol error: {} asked to re-send unknown data", ch_.peer()));
  counters_.retries++;
  auto fd = TRY(walk_.reopen(it->second.root_index, it->second.path_in_root));
  Entry e;
  e.id = r.id;
  e.path = it->second.path_in_root;
  uint64_t got = TRY(send_range(fd.get(), e, r.offset, r.length, /*spread=*/false));
  FileEnd end{r.id, got == r.length ? FileEndStatus::kOk : FileEndStatus::kChanged,
              got == r.length ? "" : "changed while being re-sent", /*streams=*/0};
  return ch_.send(FrameType::kFileEnd, encode(end));
}

base::Result<SendOutcome> Sender::run() {
  writers_.clear();
  for (size_t i = 1; i < all_.size(); ++i)
    writers_.push_back(std::make_unique<StreamWriter>(*all_[i]));
  std::thread reader([this] { read_replies(); });
  auto stop_reader = [&] {
    // The read side only: the caller may still send ERROR to say why.
    ::shutdown(ch_.transport().socket_fd(), SHUT_RD);
    reader.join();
  };
  auto body = [&]() -> base::Status {
    bool walk_done = false;
    while (!replies_.finished()) {
      TRY_STATUS(send_pending_stats());
      while (auto r = replies_.pop(false)) TRY_STATUS(serve(*r));
      if (!walk_done && awaiting_.size() < kWindow) {
        TRY_STATUS(announce_next(&walk_done));
        continue;
      }
      if (awaiting_.empty()) break;
      TRY_STATUS(flush_all());
      TRY_STATUS(send_pending_stats());
      if (auto r = replies_.pop_for(std::chrono::milliseconds(50))) TRY_STATUS(serve(*r));
    }
    // The receiver ended the transfer (its ERROR, reported below): no DONE after that.
    if (replies_.error()) return base::fail_msg("the receiver ended the transfer");
    // A sync's DONE says whether some entries could not be read: the
    // receiver then deletes nothing (what it has may be what we missed).
    TRY_STATUS(ch_.send(FrameType::kDone, sync_ && walk_failed_ ? std::string(1, '\1') : ""));
    TRY_STATUS(flush_all());
    // Serve re-sends until the receiver reports its result.
    while (!replies_.finished()) {
      TRY_STATUS(send_pending_stats());
      if (auto r = replies_.pop_for(std::chrono::milliseconds(50))) {
        TRY_STATUS(serve(*r));
        TRY_STATUS(ch_.flush());
      }
    }
    while (auto r = replies_.pop(false)) TRY_STATUS(serve(*r));
    return {};
  };
  auto st = body();
  for (auto& w : writers_) {
    if (!st) break;
    st = w->finish();
  }
  if (!st) {
    writers_.clear();  // stops them: their sockets are shut down
    // What the reader saw before it is stopped (stopping it ends its stream).
    auto cause = replies_.error();
    stop_reader();
    if (cause) return base::fail(*cause);  // the cause, not the symptom
    return base::fail(std::move(st).error());
  }
  reader.join();
  if (auto e = replies_.error()) return base::fail(*e);
  SendOutcome out;
  out.errors = std::move(errors_);
  out.receiver = replies_.result().value_or(ResultMsg{});
  return out;
}

}  // namespace ferry
