#include "ferry/receiver.h"

#include <linux/falloc.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/chunk_hash.h"
#include "ferry/codec.h"
#include "ferry/part_file.h"
#include "ferry/peer_path.h"
#include "ferry/sync_item.h"

namespace ferry {
namespace sys = base::sys;
namespace {
// Files announced and not yet finished; the sender's window is smaller.
constexpr size_t kMaxInFlight = 4096;
// Space is reserved this far ahead of the data that arrived, never for a whole
// announced size at once: a peer that announces 1 TiB and leaves has made us
// reserve at most this.
constexpr uint64_t kPreallocateAhead = 64ull << 20;

bool is_fatal(int code) {
  return code == ENOSPC || code == EDQUOT || code == EIO || code == EROFS;
}

struct timespec to_timespec(const Entry& e) {
  struct timespec ts {};
  ts.tv_sec = e.mtime_sec;
  ts.tv_nsec = e.mtime_nsec;
  return ts;
}

base::Error protocol(const std::string& text) {
  return base::Error::msg("protocol error: " + text);
}

}  // namespace

Receiver::Receiver(Channel& channel, Destination dest, ReceiveOptions options, Counters& counters,
                   std::vector<Channel*> extra)
    : ch_(channel),
      extra_(std::move(extra)),
      dest_(std::move(dest)),
      options_(std::move(options)),
      counters_(counters) {
  // On tmpfs, fallocate allocates and zeroes every page that the writes then
  // overwrite: double the work for nothing. Elsewhere it keeps files whole.
  struct statfs fs {};
  dest_in_memory_ = dest_.dir && ::fstatfs(dest_.dir.get(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

bool Receiver::takes_owner(const Entry& e) const {
  return (e.flags & kEntryOwner) && options_.keep_owners && ::geteuid() == 0;
}

base::Status Receiver::note_error(const base::Error& e) {
  base::log::warn("{}", e.message());
  outcome_.errors.push_back(e.message());
  if (is_fatal(e.code())) return base::fail(e);
  return {};
}

base::Result<std::string> Receiver::local_path(const std::string& entry_path) {
  TRY_STATUS(check_entry_path(entry_path));
  size_t slash = entry_path.find('/');
  std::string first = entry_path.substr(0, slash);
  if (options_.sync && options_.sync->contents) {
    // The one source's contents are the target: its name goes, "" is the target.
    if (first_root_.empty()) first_root_ = first;
    if (first != first_root_)
      return base::fail(
          protocol(fmt::format("entry '{}' is outside the one tree announced", entry_path)));
    return slash == std::string::npos ? std::string() : entry_path.substr(slash + 1);
  }
  if (dest_.rename_root) {
    // One source renamed to the target: every entry must lie under it.
    if (first_root_.empty()) first_root_ = first;
    if (first != first_root_)
      return base::fail(
          protocol(fmt::format("entry '{}' is outside the one tree announced", entry_path)));
    return *dest_.rename_root + (slash == std::string::npos ? "" : entry_path.substr(slash));
  }
  return entry_path;
}

base::Result<std::shared_ptr<base::UniqueFd>> Receiver::parent_dir(const std::string& rel_parent) {
  auto it = dir_cache_.find(rel_parent);
  if (it != dir_cache_.end()) return it->second;
  if (dir_cache_.size() > 256) dir_cache_.clear();
  auto fd = TRY(open_dir_beneath(dest_.dir.get(), rel_parent));
  auto shared = std::make_shared<base::UniqueFd>(std::move(fd));
  dir_cache_.emplace(rel_parent, shared);
  return shared;
}

base::Status Receiver::make_dir(const Entry& e, int parent, const std::string& leaf,
                                const std::string& rel) {
  auto made = sys::mkdirat(parent, leaf, 0700, rel);
  if (!made) {
    if (made.error().code() != EEXIST) return base::fail(std::move(made).error());
    struct stat st = TRY(sys::fstatat(parent, leaf, AT_SYMLINK_NOFOLLOW, rel));
    if (!S_ISDIR(st.st_mode))
      return base::fail_msg(fmt::format("{}: exists and is not a directory", rel));
  }
  dirs_.push_back({rel, e});
  return {};
}

base::Status Receiver::make_symlink(const Entry& e, int parent, const std::string& leaf) {
  std::string tmp = part_name_for(leaf);
  (void)sys::unlinkat(parent, tmp, 0);  // a stale one from an interrupted run
  TRY_STATUS(sys::symlinkat(e.link_target, parent, tmp, leaf));
  auto renamed = sys::renameat(parent, tmp, parent, leaf, leaf);
  if (!renamed) {
    (void)sys::unlinkat(parent, tmp, 0);
    return base::fail(std::move(renamed).error());
  }
  struct timespec times[2] = {to_timespec(e), to_timespec(e)};
  (void)sys::utimensat(parent, leaf, times, AT_SYMLINK_NOFOLLOW);
  if (takes_owner(e)) (void)::fchownat(parent, leaf.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW);
  return {};
}

base::Status Receiver::open_file(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                                 const std::string& leaf, const std::string& rel) {
  Want want{e.id, WantHow::kAll, {}};
  if (dest_.stream_fd >= 0) {
    Incoming in;
    in.entry = e;
    in.stream = true;
    TRY_STATUS(ch_.send(FrameType::kWant, encode(want)));
    incoming_.emplace(e.id, std::move(in));
    return {};
  }
  if (options_.skip_whole) {
    auto st = sys::fstatat(parent->get(), leaf, AT_SYMLINK_NOFOLLOW, rel);
    if (st && S_ISREG(st->st_mode) && static_cast<uint64_t>(st->st_size) == e.size &&
        st->st_mtim.tv_sec == e.mtime_sec &&
        static_cast<uint32_t>(st->st_mtim.tv_nsec) == e.mtime_nsec) {
      want.how = WantHow::kSkip;
      counters_.files_skipped++;
      counters_.files_done++;
      counters_.bytes_skipped += e.size;
      return ch_.send(FrameType::kWant, encode(want));
    }
  }
  // A device, FIFO or socket in the way is never replaced by the rename.
  if (auto old = sys::fstatat(parent->get(), leaf, AT_SYMLINK_NOFOLLOW, rel);
      old && (S_ISCHR(old->st_mode) || S_ISBLK(old->st_mode) || S_ISFIFO(old->st_mode) ||
              S_ISSOCK(old->st_mode)))
    return base::fail_msg(fmt::format("{}: not a regular file or directory; not replaced", rel));
  Incoming in;
  in.entry = e;
  in.parent = std::move(parent);
  in.leaf = leaf;
  in.rel = rel;
  if (options_.sync) in.xattrs = entry_xattrs_;
  in.part = part_name_for(leaf);
  const std::string& shown = rel;
  in.fd = TRY(open_part_file(*in.parent, in.part, shown));
  in.lock = TRY(PartLocks::process().lock(in.fd.get(), rel, liveness_));
  struct stat st = TRY(sys::fstat(in.fd.get(), shown));
  if (st.st_size > 0) {
    // Resume: tell the sender what we hold so it sends only the difference.
    uint64_t have = std::min<uint64_t>(static_cast<uint64_t>(st.st_size), e.size);
    uint64_t blocks = have / kChunkSize;
    if (have == e.size && have % kChunkSize != 0) ++blocks;  // the short last block
    std::vector<uint8_t> buf(kChunkSize);
    for (uint64_t i = 0; i < blocks; ++i) {
      uint64_t off = i * kChunkSize;
      auto len = static_cast<size_t>(std::min<uint64_t>(kChunkSize, e.size - off));
      size_t got = TRY(sys::pread(in.fd.get(), buf.data(), len, static_cast<off_t>(off), shown));
      want.have.push_back(chunk_hash(buf.data(), got));
    }
    uint64_t kept = std::min<uint64_t>(blocks * kChunkSize, e.size);
    TRY_STATUS(sys::ftruncate(in.fd.get(), static_cast<off_t>(kept), shown));
    in.high_water = kept;
    in.resumed_until = kept;
    counters_.bytes_skipped += kept;  // less whatever the sender finds changed, below
    want.how = WantHow::kBlocks;
  } else {
    in.preallocate = !(e.flags & kEntrySparse) && e.size >= kChunkSize && !dest_in_memory_;
  }
  TRY_STATUS(ch_.send(FrameType::kWant, encode(want)));
  incoming_.emplace(e.id, std::move(in));
  return {};
}

base::Status Receiver::on_entry(std::span<const uint8_t> payload) {
  Entry e = TRY(decode_entry(payload));
  std::lock_guard lock(mu_);
  if (e.id <= last_id_) return base::fail(protocol("entry ids must increase"));
  last_id_ = e.id;
  if (incoming_.size() >= kMaxInFlight) return base::fail(protocol("too many files in flight"));
  if (options_.requested) TRY_STATUS(options_.requested->admit(e));
  counters_.files_seen++;
  if (dest_.stream_fd >= 0) {
    // Standard output takes exactly one regular file.
    if (e.kind != EntryKind::kFile || stream_used_)
      return base::fail_msg(fmt::format("only one regular file can be written to {}", dest_.shown));
    TRY_STATUS(check_entry_path(e.path));
    stream_used_ = true;
    counters_.bytes_planned += e.size;
    return open_file(e, nullptr, "", e.path);
  }
  if (dest_.undecided_leaf) TRY_STATUS(place_target(e));
  std::string rel = TRY(local_path(e.path));
  const auto split = split_parent(rel);
  const std::string& parent_rel = split.first;
  const std::string& leaf = split.second;
  if (options_.sync && options_.sync->xattrs) {
    auto it = xattrs_.find(e.id);
    entry_xattrs_ = it == xattrs_.end() ? Xattrs{} : std::move(it->second);
    if (it != xattrs_.end()) xattrs_.erase(it);
  }
  if (!xattrs_.empty()) return base::fail(protocol("XATTRS for an entry that did not follow"));
  // -H: a file with more names is remembered; a further name must name one.
  std::string link_rel;
  bool hard_links = options_.sync && options_.sync->hard_links;
  if (e.kind == EntryKind::kHardLink) {
    if (!hard_links) return base::fail(protocol("a hard link without -H"));
    auto leader = link_leaders_.find(e.link_target);
    if (leader == link_leaders_.end() || rel.empty())
      return base::fail(protocol(fmt::format(
          "hard link {} names {}, not a file announced as linked", e.path, e.link_target)));
    link_rel = leader->second;
  } else if (hard_links && e.kind == EntryKind::kFile && (e.flags & kEntryHasLinks)) {
    link_leaders_.emplace(e.path, rel);
  }
  if (sweep_) sweep_->announced(rel, e.kind == EntryKind::kDir);
  auto work = [&]() -> base::Status {
    // Creating entries (mkdir, symlink, open, fallocate) is writing the sink.
    StageTimer t(&counters_.stages, Stage::kSinkWrite);
    if (options_.sync && options_.sync->dry_run &&
        (dest_.missing || dry_new_dirs_.count(parent_rel))) {
      // Inside a directory a dry run did not make: all of it would be new.
      item(item_new(e.kind, rel, e.kind == EntryKind::kHardLink ? link_rel : e.link_target));
      if (e.kind == EntryKind::kDir) dry_new_dirs_.insert(rel);
      if (e.kind == EntryKind::kFile)
        TRY_STATUS(ch_.send(FrameType::kWant, encode(Want{e.id, WantHow::kSkip, {}})));
      counters_.files_done++;
      return {};
    }
    if (options_.sync) {
      auto parent = rel.empty() ? std::shared_ptr<base::UniqueFd>() : TRY(parent_dir(parent_rel));
      if (e.kind == EntryKind::kFile) counters_.bytes_planned += e.size;
      if (e.kind == EntryKind::kHardLink) {
        pending_links_.push_back({rel, link_rel, e});  // once every file is in place
      } else {
        TRY_STATUS(sync_entry(e, std::move(parent), leaf, rel));
      }
      if (e.kind != EntryKind::kFile) {
        counters_.files_done++;
        outcome_.entries++;
      }
      return {};
    }
    auto parent = TRY(parent_dir(parent_rel));
    switch (e.kind) {
      case EntryKind::kDir:
        TRY_STATUS(make_dir(e, parent->get(), leaf, rel));
        counters_.files_done++;
        outcome_.entries++;
        return {};
      case EntryKind::kSymlink:
        TRY_STATUS(make_symlink(e, parent->get(), leaf));
        counters_.files_done++;
        outcome_.entries++;
        return {};
      case EntryKind::kFile:
        counters_.bytes_planned += e.size;
        return open_file(e, std::move(parent), leaf, rel);
      case EntryKind::kHardLink:  // refused above: sync only
        return base::fail(protocol("a hard link outside a sync"));
    }
    return {};
  };
  auto st = work();
  // A SUM is for the entry right after it: none outlives its entry.
  std::erase_if(sums_, [&](const auto& kv) { return kv.first <= e.id; });
  if (!st) {
    // The sender still expects an answer for a file: tell it to skip.
    if (e.kind == EntryKind::kFile)
      TRY_STATUS(ch_.send(FrameType::kWant, encode(Want{e.id, WantHow::kSkip, {}})));
    return note_error(st.error());
  }
  return {};
}

base::Status Receiver::file_failed(Incoming& in, const base::Error& e) {
  in.failed = true;
  if (in.fd) {
    in.fd.reset();
    (void)sys::unlinkat(in.parent->get(), in.part, 0);
  }
  return note_error(e);
}

base::Status Receiver::on_data(std::span<const uint8_t> payload) {
  DataHeader h = TRY(decode_data_header(payload));
  return take_data(h, payload.subspan(kDataPrefixSize));
}

base::Status Receiver::on_data_z(std::span<const uint8_t> payload) {
  if (!options_.sync || !options_.sync->compress) return base::fail(protocol("DATA_Z without -z"));
  if (payload.size() < kDataZPrefixSize) return base::fail(protocol("DATA_Z truncated"));
  DataHeader h = TRY(decode_data_header(payload.first(kDataPrefixSize)));
  uint32_t raw_len = load_be32(payload.data() + kDataPrefixSize);
  auto raw = decompressor_.decompress(payload.subspan(kDataZPrefixSize), raw_len);
  if (!raw) return base::fail(protocol(raw.error().message()));
  counters_.compressed_raw += raw_len;
  counters_.compressed_wire += payload.size() - kDataZPrefixSize;
  return take_data(h, *raw);
}

base::Status Receiver::take_data(const DataHeader& h, std::span<const uint8_t> data) {
  bool intact = chunk_hash(data.data(), data.size()) == h.hash;  // outside the lock
  std::lock_guard lock(mu_);
  auto it = incoming_.find(h.id);
  if (it == incoming_.end())
    return base::fail(protocol(fmt::format("data for unknown file {}", h.id)));
  Incoming& in = it->second;
  if (in.failed) {
    in.bad_chunks.erase(h.offset);
    return {};
  }
  uint64_t limit = (in.entry.flags & kEntryGrowing) ? (1ull << 62) : in.entry.size;
  if (h.offset > limit || data.size() > limit - h.offset)
    return base::fail(protocol(fmt::format("data beyond the announced size of {}", in.entry.path)));
  // A chunk at an offset we asked for again answers that request, good or bad.
  in.bad_chunks.erase(h.offset);
  if (!intact) {
    counters_.retries++;
    if (++in.retries > kMaxRetries)
      return file_failed(in, base::Error::msg(fmt::format(
                                 "{}: checksum mismatch persisted after {} re-sends; not copied",
                                 in.entry.path, kMaxRetries)));
    base::log::warn("{}: checksum mismatch at offset {}; asking again", in.entry.path, h.offset);
    in.bad_chunks[h.offset] = static_cast<uint32_t>(data.size());
    TRY_STATUS(ch_.send(FrameType::kRetry,
                        encode(Retry{h.id, h.offset, static_cast<uint32_t>(data.size())})));
    return ch_.flush();
  }
  base::Status written;
  if (in.stream) {
    written = write_stream(in, h.offset, data);
  } else {
    StageTimer t(&counters_.stages, Stage::kSinkWrite);
    written = reserve_ahead(in, h.offset + data.size());
    if (written)
      written = sys::pwrite_all(in.fd.get(), data.data(), data.size(), static_cast<off_t>(h.offset),
                                in.entry.path);
  }
  if (!written) return file_failed(in, written.error());
  if (h.offset < in.resumed_until)
    counters_.bytes_skipped -= std::min<uint64_t>(data.size(), in.resumed_until - h.offset);
  in.high_water = std::max<uint64_t>(in.high_water, h.offset + data.size());
  counters_.bytes_moved += data.size();
  outcome_.bytes += data.size();
  return {};
}

base::Status Receiver::reserve_ahead(Incoming& in, uint64_t end) {
  if (!in.preallocate || end <= in.allocated) return {};
  uint64_t upto =
      std::min<uint64_t>(in.entry.size, std::max(end, in.allocated + kPreallocateAhead));
  TRY_STATUS(sys::fallocate(in.fd.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(in.allocated),
                            static_cast<off_t>(upto - in.allocated), in.entry.path));
  in.allocated = upto;
  return {};
}

base::Status Receiver::write_stream(Incoming& in, uint64_t offset, std::span<const uint8_t> data) {
  if (offset < in.high_water)
    return base::fail(protocol(fmt::format("data for {} arrived out of order", dest_.shown)));
  StageTimer t(&counters_.stages, Stage::kSinkWrite);
  static const std::string zeros(1 << 16, '\0');
  while (in.high_water < offset) {  // a hole: a stream gets zeros
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), offset - in.high_water));
    TRY_STATUS(sys::write_all(dest_.stream_fd, zeros.data(), n, dest_.shown));
    in.high_water += n;
  }
  return sys::write_all(dest_.stream_fd, data.data(), data.size(), dest_.shown);
}

base::Status Receiver::finalize(Incoming& in) {
  const Entry& e = in.entry;
  if (in.stream) {
    if (!(e.flags & kEntryGrowing) && in.high_water < e.size)
      TRY_STATUS(write_stream(in, e.size, {}));  // trailing hole
    return {};
  }
  uint64_t size = (e.flags & kEntryGrowing) ? in.high_water : e.size;
  int fd = in.fd.get();
  if (in.high_water != size) TRY_STATUS(sys::ftruncate(fd, static_cast<off_t>(size), e.path));
  if (takes_owner(e)) TRY_STATUS(sys::fchown(fd, e.uid, e.gid, e.path));
  mode_t mode = options_.keep_owners ? e.mode : e.mode & ~static_cast<mode_t>(S_ISUID | S_ISGID);
  TRY_STATUS(sys::fchmod(fd, mode, e.path));
  if (options_.fsync) {
    StageTimer t(&counters_.stages, Stage::kSinkSync);
    TRY_STATUS(sys::fsync(fd, e.path));
  }
  struct timespec times[2] = {to_timespec(e), to_timespec(e)};
  if (options_.sync && options_.sync->xattrs) {
    Xattrs have = TRY(read_xattrs(fd, xattrs_privileged(), in.rel));
    TRY_STATUS(write_xattrs(fd, have, in.xattrs, xattrs_privileged(), in.rel));
  }
  TRY_STATUS(sys::futimens(fd, times, e.path));
  if (options_.sync) TRY_STATUS(keep_old(in.parent->get(), in.leaf, in.rel));
  TRY_STATUS(sys::renameat(in.parent->get(), in.part, in.parent->get(), in.leaf, e.path));
  in.fd.reset();
  return {};
}

base::Status Receiver::on_file_end(std::span<const uint8_t> payload, bool primary) {
  FileEnd end = TRY(decode_file_end(payload));
  std::lock_guard lock(mu_);
  auto it = incoming_.find(end.id);
  if (it == incoming_.end())
    return base::fail(protocol(fmt::format("end of unknown file {}", end.id)));
  Incoming& in = it->second;
  if (end.streams > 0) {
    if (end.streams > 1 + extra_.size())
      return base::fail(protocol("FILE_END names too many streams"));
    if (in.ends_needed != 0 && in.ends_needed != end.streams)
      return base::fail(protocol("FILE_END stream counts disagree"));
    in.ends_needed = end.streams;
    in.ends_seen++;
    if (primary) in.ended_on_primary = true;
  }
  // Complete once every stream's FILE_END is in (so all their data is) and
  // no re-sent chunk is still on its way (another FILE_END follows it).
  if (in.ends_needed == 0 || in.ends_seen < in.ends_needed) return {};
  if (!in.bad_chunks.empty() && end.status == FileEndStatus::kOk) return {};
  base::Status st;
  if (!in.failed && in.applier && !in.delta_ended && end.status == FileEndStatus::kOk)
    st = file_failed(in, protocol(fmt::format("{} ended before its delta", in.entry.path)));
  if (!in.failed) {
    if (end.status != FileEndStatus::kOk) {
      // The sender reports this itself; drop the part file quietly.
      in.fd.reset();
      (void)sys::unlinkat(in.parent->get(), in.part, 0);
    } else {
      base::Status done;
      {
        StageTimer t(&counters_.stages, Stage::kSinkWrite);  // truncate, chmod, utimes, rename
        done = finalize(in);
      }
      if (!done) {
        st = file_failed(in, done.error());
      } else {
        outcome_.entries++;
      }
    }
  }
  counters_.files_done++;
  incoming_.erase(it);
  TRY_STATUS(st);
  return maybe_finish();
}

base::Status Receiver::maybe_finish() {
  if (!done_ || !incoming_.empty() || finished_) return {};
  finished_ = true;
  return finish();
}

base::Status Receiver::finish() {
  if (options_.sync) make_hard_links();
  // Deepest first, so setting a parent's mtime comes after its children change it.
  std::stable_sort(dirs_.begin(), dirs_.end(), [](const DirMeta& a, const DirMeta& b) {
    return std::count(a.path.begin(), a.path.end(), '/') >
           std::count(b.path.begin(), b.path.end(), '/');
  });
  for (const DirMeta& d : dirs_) {
    const auto split = split_parent(d.path);
    const std::string& parent_rel = split.first;
    const std::string& leaf = split.second;
    auto apply = [&]() -> base::Status {
      if (d.path.empty()) {  // a sync's target itself
        auto self = TRY(sys::openat(dest_.dir.get(), ".", O_RDONLY | O_DIRECTORY, 0, dest_.shown));
        if (takes_owner(d.entry)) TRY_STATUS(sys::fchown(self.get(), d.entry.uid, d.entry.gid));
        TRY_STATUS(sys::fchmod(self.get(), d.entry.mode, dest_.shown));
        struct timespec times[2] = {to_timespec(d.entry), to_timespec(d.entry)};
        return sys::futimens(self.get(), times, dest_.shown);
      }
      auto parent = TRY(open_dir_beneath(dest_.dir.get(), parent_rel));
      struct stat st = TRY(sys::fstatat(parent.get(), leaf, AT_SYMLINK_NOFOLLOW, d.path));
      if (!S_ISDIR(st.st_mode)) return {};
      if (takes_owner(d.entry))
        (void)::fchownat(parent.get(), leaf.c_str(), d.entry.uid, d.entry.gid, AT_SYMLINK_NOFOLLOW);
      TRY_STATUS(sys::fchmodat(parent.get(), leaf, d.entry.mode, d.path));
      struct timespec times[2] = {to_timespec(d.entry), to_timespec(d.entry)};
      return sys::utimensat(parent.get(), leaf, times, AT_SYMLINK_NOFOLLOW, d.path);
    };
    if (auto st = apply(); !st) TRY_STATUS(note_error(st.error()));
  }
  ResultMsg r;
  r.files = outcome_.entries;
  r.bytes = outcome_.bytes;
  r.failed = static_cast<uint32_t>(outcome_.errors.size());
  if (!outcome_.errors.empty()) r.first_error = outcome_.errors.front();
  TRY_STATUS(ch_.send(FrameType::kResult, encode(r)));
  return ch_.flush();
}

base::Status Receiver::primary_loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (finished_) return {};
      if (fatal_) return base::fail(*fatal_);
      if (!ch_.frame_buffered()) TRY_STATUS(ch_.flush());  // answer before waiting
    }
    auto f = ch_.recv();
    if (f) liveness_->heard_from_peer();
    if (!f) {
      std::lock_guard lock(mu_);
      if (finished_) return {};  // the sender closed after our RESULT
      if (fatal_) return base::fail(*fatal_);
      return base::fail(std::move(f).error());
    }
    switch (f->type) {
      case FrameType::kEntry:
        TRY_STATUS(on_entry(f->payload));
        break;
      case FrameType::kData:
        TRY_STATUS(on_data(f->payload));
        break;
      case FrameType::kDataZ:
        TRY_STATUS(on_data_z(f->payload));
        break;
      case FrameType::kFileEnd:
        TRY_STATUS(on_file_end(f->payload, /*primary=*/true));
        break;
      case FrameType::kSum:
        TRY_STATUS(on_sum(f->payload));
        break;
      case FrameType::kXattrs:
        TRY_STATUS(on_xattrs(f->payload));
        break;
      case FrameType::kDelta:
        TRY_STATUS(on_delta(f->payload));
        break;
      case FrameType::kDone: {
        std::lock_guard lock(mu_);
        if (done_) return base::fail(protocol("DONE twice"));
        done_ = true;
        for (auto& [id, in] : incoming_)
          if (!in.ended_on_primary)
            return base::fail(protocol(fmt::format("DONE while {} was unfinished", in.entry.path)));
        if (f->payload.size() > 1 || (f->payload.size() == 1 && f->payload[0] > 1))
          return base::fail(protocol("DONE with an unknown payload"));
        if (f->payload.size() == 1 && f->payload[0] == 1 && sweep_) {
          // As rsync: what the sender could not read may be what we hold.
          sweep_.reset();
          TRY_STATUS(note_error(
              base::Error::msg("the sender could not read every entry: nothing was deleted")));
        }
        sweep_extraneous();
        TRY_STATUS(maybe_finish());
        break;
      }
      case FrameType::kError: {
        auto e = decode_error(f->payload);
        return base::fail_msg(e ? fmt::format("{} reports: {}", ch_.peer(), e->message)
                                : "peer sent a malformed ERROR");
      }
      case FrameType::kStats: {
        auto j = nlohmann::json::parse(f->payload.begin(), f->payload.end(), nullptr, false);
        Sample sample = TRY(Sample::from_json(j));
        if (monitor_) monitor_->add_peer(sample);
        break;
      }
      default:
        return base::fail(
            protocol(fmt::format("{} sent {} during a transfer", ch_.peer(), frame_name(f->type))));
    }
  }
}

void Receiver::post_stats(const Sample& s) {
  std::lock_guard lock(mu_);
  if (finished_ || stopping_) return;
  if (ch_.send(FrameType::kStats, s.to_json().dump())) (void)ch_.flush();
}

void Receiver::drain_stream(Channel& c) {
  for (;;) {
    auto f = c.recv();
    if (f) liveness_->heard_from_peer();
    base::Status st;
    if (!f) {
      if (stopping_ || finished_) return;
      st = base::fail(std::move(f).error());
    } else if (f->type == FrameType::kData) {
      st = on_data(f->payload);
    } else if (f->type == FrameType::kFileEnd) {
      st = on_file_end(f->payload, /*primary=*/false);
    } else {
      st = base::fail(protocol(fmt::format("{} on a data stream", frame_name(f->type))));
    }
    if (!st) {
      {
        std::lock_guard lock(mu_);
        if (!fatal_ && !finished_) fatal_ = st.error();
      }
      ::shutdown(ch_.transport().socket_fd(), SHUT_RD);  // wake the primary stream
      return;
    }
  }
}

void Receiver::drop_empty_parts() {
  std::lock_guard lock(mu_);
  for (auto& [id, in] : incoming_) {
    if (!in.fd || in.stream || in.high_water > 0) continue;
    auto st = sys::fstat(in.fd.get(), in.part);
    if (!st || st->st_size != 0) continue;
    // Unlinked while still locked, so no other transfer can be writing it.
    (void)sys::unlinkat(in.parent->get(), in.part, 0, in.part);
    in.fd.reset();
  }
}

base::Result<ReceiveOutcome> Receiver::run() {
  liveness_ = TRY(ReceiverLiveness::of_socket(ch_.transport().socket_fd()));
  if (options_.sync && dest_.missing) dry_new_dirs_.insert("");  // all of it would be new
  if (options_.sync)
    signatures_ = std::make_unique<SignatureWorker>(
        [this](const std::string& payload) -> base::Status {
          std::lock_guard lock(mu_);
          if (finished_ || stopping_) return {};
          TRY_STATUS(ch_.send(FrameType::kSignature, payload));
          return ch_.flush();
        },
        [this](const base::Error& e) {
          {
            std::lock_guard lock(mu_);
            if (!fatal_ && !finished_) fatal_ = e;
          }
          ::shutdown(ch_.transport().socket_fd(), SHUT_RD);  // wake the primary stream
        });
  // An undecided target is no directory yet: nothing in it to delete.
  if (options_.sync && options_.sync->delete_extraneous && !dest_.missing && !dest_.undecided_leaf)
    sweep_.emplace(dest_.dir.get(), SweepOptions{options_.sync->dry_run,
                                                 options_.sync->filter.get(),
                                                 [this](const std::string& line) { item(line); },
                                                 options_.sync->backups.get(),
                                                 {}});
  std::vector<std::thread> streams;
  for (Channel* c : extra_) streams.emplace_back([this, c] { drain_stream(*c); });
  auto st = primary_loop();
  if (!st) {
    // Tell the sender why we stop (best effort: the connection may be gone).
    std::lock_guard lock(mu_);
    ErrorMsg m{1, st.error().message()};
    if (ch_.send(FrameType::kError, encode(m))) (void)ch_.flush();
  }
  stopping_ = true;
  if (signatures_) signatures_->stop();
  for (Channel* c : extra_) ::shutdown(c->transport().socket_fd(), SHUT_RDWR);
  for (auto& t : streams) t.join();
  if (!st) {
    drop_empty_parts();
    return base::fail(std::move(st).error());
  }
  if (options_.requested)
    for (const auto& source : options_.requested->missing())
      outcome_.errors.push_back(fmt::format(
          "{}: the server sent nothing for it (it does not exist there, or is a directory and "
          "-r was not given; the server's log says which)",
          source));
  return std::move(outcome_);
}

}  // namespace ferry
