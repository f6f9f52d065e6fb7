// The receiver's half of `ferry sync` (see SyncReceive in receiver.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/content_hash.h"
#include "ferry/frame.h"
#include "ferry/part_file.h"
#include "ferry/peer_path.h"
#include "ferry/receiver.h"
#include "ferry/sync/delta_block_size.h"
#include "ferry/sync_item.h"

namespace ferry {
namespace sys = base::sys;
namespace {
// Asked again after a delta that did not rebuild the file: ranges this long.
constexpr uint64_t kResendPiece = 1ull << 30;
// Larger files are not asked for again whole (at most 1024 RETRYs).
constexpr uint64_t kMaxResend = 1ull << 40;
// Delta files in flight at once: each holds two descriptors; more are sent whole.
constexpr size_t kMaxDeltasInFlight = 64;

bool same_mtime(const struct stat& st, const Entry& e) {
  return st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

struct timespec mtime_of(const Entry& e) {
  struct timespec ts {};
  ts.tv_sec = e.mtime_sec;
  ts.tv_nsec = e.mtime_nsec;
  return ts;
}

// `leaf` opened for reading, if it is still the regular file `seen` (same
// device and inode): never a link followed, never a FIFO waited on.
base::Result<base::UniqueFd> open_same(int parent, const std::string& leaf, const std::string& rel,
                                       const struct stat& seen) {
  auto fd = TRY(sys::openat(parent, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, rel));
  struct stat st = TRY(sys::fstat(fd.get(), rel));
  if (!S_ISREG(st.st_mode) || st.st_dev != seen.st_dev || st.st_ino != seen.st_ino)
    return base::fail_msg(fmt::format("{}: replaced while being looked at", rel));
  return fd;
}

base::Result<bool> directory_is_empty(int dir_fd, const std::string& shown) {
  auto fd = TRY(sys::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY, 0, shown));
  DIR* d = TRY(sys::fdopendir(fd.get(), shown));
  fd.release();  // owned by `d`
  struct Closer {
    void operator()(DIR* dir) const { closedir(dir); }
  };
  std::unique_ptr<DIR, Closer> owned(d);
  for (;;) {
    struct dirent* e = TRY(sys::readdir(d, shown));
    if (!e) return true;
    std::string_view n = e->d_name;
    if (n != "." && n != "..") return false;
  }
}

}  // namespace

const std::string& Receiver::shown_as(const Entry& e, const std::string& rel) const {
  return dest_.rename_root ? e.path : rel;  // rsync itemizes a renamed file by its own name
}

size_t Receiver::deltas_in_flight() const {
  size_t n = 0;
  for (const auto& [id, in] : incoming_) n += in.applier != nullptr;
  return n;
}

void Receiver::item(const std::string& line) {
  if (options_.sync && options_.sync->item) options_.sync->item(line);
}

base::Status Receiver::on_sum(std::span<const uint8_t> payload) {
  SumMsg m = TRY(decode_sum(payload));
  std::lock_guard lock(mu_);
  if (!options_.sync || !options_.sync->checksum)
    return base::fail_msg("protocol error: SUM without --checksum");
  if (m.id <= last_id_) return base::fail_msg("protocol error: SUM for an entry already seen");
  if (sums_.size() > 1) return base::fail_msg("protocol error: SUM frames without their entries");
  sums_[m.id] = m.hash;
  return {};
}

base::Status Receiver::keep_old(int parent, const std::string& leaf, const std::string& rel) {
  Backups* backups = options_.sync->backups.get();
  if (!backups) return {};
  auto st = sys::fstatat(parent, leaf, AT_SYMLINK_NOFOLLOW, rel);
  if (!st) return st.error().code() == ENOENT ? base::Status{} : base::fail(std::move(st).error());
  if (S_ISDIR(st->st_mode)) return {};
  return backups->keep(parent, leaf, rel);
}

base::Status Receiver::remove_old(int parent, const std::string& leaf, const std::string& rel) {
  if (options_.sync->backups) return options_.sync->backups->keep(parent, leaf, rel);
  return sys::unlinkat(parent, leaf, 0, rel);
}

base::Status Receiver::on_xattrs(std::span<const uint8_t> payload) {
  XattrsMsg m = TRY(decode_xattrs(payload));
  std::lock_guard lock(mu_);
  if (!options_.sync || !options_.sync->xattrs)
    return base::fail_msg("protocol error: XATTRS without -X");
  if (m.id <= last_id_) return base::fail_msg("protocol error: XATTRS for an entry already seen");
  if (!xattrs_.empty())
    return base::fail_msg("protocol error: XATTRS frames without their entries");
  // What this side may not set is not the sender's to decide: dropped here.
  std::erase_if(m.attrs,
                [&](const auto& a) { return !xattr_carried(a.first, xattrs_privileged()); });
  xattrs_[m.id] = std::move(m.attrs);
  return {};
}

bool Receiver::xattrs_privileged() const {
  return options_.keep_owners && geteuid() == 0;
}

base::Result<bool> Receiver::sync_xattrs(int fd, const std::string& rel) {
  Xattrs have = TRY(read_xattrs(fd, xattrs_privileged(), rel));
  if (have == entry_xattrs_) return false;
  if (!options_.sync->dry_run)
    TRY_STATUS(write_xattrs(fd, have, entry_xattrs_, xattrs_privileged(), rel));
  return true;
}

base::Status Receiver::make_way(int parent, const std::string& leaf, const std::string& rel,
                                const struct stat& local) {
  bool dry = options_.sync->dry_run;
  if (!S_ISDIR(local.st_mode)) return dry ? base::Status{} : remove_old(parent, leaf, rel);
  // A directory where a file or link is to go: rsync removes it with its
  // contents when deleting, else only when it is empty.
  auto fd = TRY(sys::openat(parent, leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, rel));
  if (!options_.sync->delete_extraneous) {
    auto in_the_way = base::Error::msg(fmt::format(
        "{}: a non-empty directory is in the way; not replaced (--delete replaces it)", rel));
    if (dry) {
      if (!TRY(directory_is_empty(fd.get(), rel))) return base::fail(in_the_way);
      return {};
    }
    auto gone = sys::unlinkat(parent, leaf, AT_REMOVEDIR, rel);
    if (!gone && gone.error().code() == ENOTEMPTY) return base::fail(in_the_way);
    return gone;
  }
  ExtraneousSweep contents(fd.get(),
                           SweepOptions{dry, nullptr,
                                        [&](const std::string& line) {
                                          // "*deleting   NAME" inside `rel`
                                          item(line.substr(0, 12) + rel + "/" + line.substr(12));
                                        },
                                        options_.sync->backups.get(), rel});
  contents.announced("", true);
  std::vector<std::string> errors;
  (void)contents.run(&errors);
  if (!errors.empty()) return base::fail_msg(errors.front());
  return dry ? base::Status{} : sys::unlinkat(parent, leaf, AT_REMOVEDIR, rel);
}

base::Status Receiver::fix_attributes(const Entry& e, int parent, const std::string& leaf,
                                      const std::string& rel, const struct stat& local) {
  struct timespec times[2] = {mtime_of(e), mtime_of(e)};
  if (S_ISLNK(local.st_mode)) {  // a link has no mode of its own; never followed
    if (takes_owner(e) && (local.st_uid != e.uid || local.st_gid != e.gid))
      TRY_STATUS(sys::fchownat(parent, leaf, e.uid, e.gid, AT_SYMLINK_NOFOLLOW, rel));
    if (!same_mtime(local, e))
      TRY_STATUS(sys::utimensat(parent, leaf, times, AT_SYMLINK_NOFOLLOW, rel));
    return {};
  }
  // Through a descriptor of the very file looked at: nothing swapped in
  // between (a link to elsewhere, a FIFO) is changed instead.
  auto fd = TRY(open_same(parent, leaf, rel, local));
  if (takes_owner(e) && (local.st_uid != e.uid || local.st_gid != e.gid))
    TRY_STATUS(sys::fchown(fd.get(), e.uid, e.gid, rel));
  mode_t mode = options_.keep_owners ? e.mode : e.mode & ~static_cast<mode_t>(S_ISUID | S_ISGID);
  if ((local.st_mode & 07777) != mode) TRY_STATUS(sys::fchmod(fd.get(), mode, rel));
  if (!same_mtime(local, e)) TRY_STATUS(sys::futimens(fd.get(), times, rel));
  return {};
}

base::Status Receiver::sync_entry(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                                  const std::string& leaf, const std::string& rel) {
  const SyncReceive& so = *options_.sync;
  std::optional<struct stat> local;
  auto st = rel.empty() ? sys::fstat(dest_.dir.get(), dest_.shown)
                        : sys::fstatat(parent->get(), leaf, AT_SYMLINK_NOFOLLOW, rel);
  if (st) {
    local = *st;
  } else if (st.error().code() != ENOENT) {
    return base::fail(std::move(st).error());
  }
  ItemChanges c;
  if (local) {
    c.time = !same_mtime(*local, e);
    c.perms = !S_ISLNK(local->st_mode) && (local->st_mode & 07777) != e.mode;
    c.owner = takes_owner(e) && local->st_uid != e.uid;
    c.group = takes_owner(e) && local->st_gid != e.gid;
  }
  if (rel.empty() && e.kind != EntryKind::kDir)
    return base::fail_msg(
        fmt::format("{}: only a directory's contents can be synced into a directory (it is a {})",
                    e.path, e.kind == EntryKind::kFile ? "file" : "symbolic link"));
  switch (e.kind) {
    case EntryKind::kDir: {
      if (rel.empty() || (local && S_ISDIR(local->st_mode))) {
        // The target itself (a sync of a directory's contents), or one here.
        if (so.xattrs) {
          auto fd = rel.empty() ? sys::openat(dest_.dir.get(), ".", O_RDONLY | O_DIRECTORY, 0, rel)
                                : sys::openat(parent->get(), leaf,
                                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, rel);
          c.xattrs = TRY(sync_xattrs(TRY(std::move(fd)).get(), rel));
        }
        if (rel.empty() && dest_.made) {
          item(item_new(e.kind, rel));  // rsync: "cd+++++++++ ./" for a target it made
        } else if (c.any()) {
          item(item_changed('.', e.kind, c, shown_as(e, rel)));
        }
        if (!so.dry_run) dirs_.push_back({rel, e});
        return {};
      }
      if (local) TRY_STATUS(make_way(parent->get(), leaf, rel, *local));
      item(item_new(e.kind, shown_as(e, rel)));
      if (so.dry_run) {
        dry_new_dirs_.insert(rel);
        return {};
      }
      TRY_STATUS(make_dir(e, parent->get(), leaf, rel));
      if (so.xattrs && !entry_xattrs_.empty()) {
        auto fd =
            TRY(sys::openat(parent->get(), leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, rel));
        (void)TRY(sync_xattrs(fd.get(), rel));
      }
      return {};
    }
    case EntryKind::kSymlink: {
      if (local && S_ISLNK(local->st_mode)) {
        std::string target = TRY(sys::readlinkat(parent->get(), leaf, rel));
        if (target == e.link_target) {
          c.perms = false;
          if (c.any()) item(item_changed('.', e.kind, c, shown_as(e, rel), e.link_target));
          if (!so.dry_run && c.any())
            TRY_STATUS(fix_attributes(e, parent->get(), leaf, rel, *local));
          return {};
        }
        c.content = true;
        item(item_changed('c', e.kind, c, shown_as(e, rel), e.link_target));
      } else {
        if (local && S_ISDIR(local->st_mode))
          TRY_STATUS(make_way(parent->get(), leaf, rel, *local));
        item(item_new(e.kind, shown_as(e, rel), e.link_target));
      }
      if (so.dry_run) return {};
      TRY_STATUS(keep_old(parent->get(), leaf, rel));
      return make_symlink(e, parent->get(), leaf);
    }
    case EntryKind::kFile:
      return sync_file(e, std::move(parent), leaf, rel, local);
    case EntryKind::kHardLink:  // on_entry keeps these for make_hard_links()
      break;
  }
  return {};
}

base::Status Receiver::sync_file(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                                 const std::string& leaf, const std::string& rel,
                                 const std::optional<struct stat>& local) {
  const SyncReceive& so = *options_.sync;
  std::optional<ContentHash> sum;
  if (so.checksum) {
    auto it = sums_.find(e.id);
    if (it == sums_.end())
      return base::fail_msg(fmt::format("protocol error: no SUM came for {}", e.path));
    sum = it->second;
    sums_.erase(it);
  }
  auto skip = [&]() {
    counters_.files_skipped++;
    counters_.files_done++;
    counters_.bytes_skipped += e.size;
    return ch_.send(FrameType::kWant, encode(Want{e.id, WantHow::kSkip, {}}));
  };
  bool regular = local && S_ISREG(local->st_mode);
  // A directory in the way goes first (or the file is not copied: the
  // caller answers SKIP and reports why).
  if (local && S_ISDIR(local->st_mode)) TRY_STATUS(make_way(parent->get(), leaf, rel, *local));
  ItemChanges c;
  if (local) {
    c.time = !same_mtime(*local, e);
    c.perms = regular && (local->st_mode & 07777) != e.mode;
    c.owner = takes_owner(e) && local->st_uid != e.uid;
    c.group = takes_owner(e) && local->st_gid != e.gid;
  }
  if (regular) {
    c.size = static_cast<uint64_t>(local->st_size) != e.size;
    bool same = !c.size && !c.time;
    // The very file looked at, opened once for what needs more than its stat.
    base::UniqueFd seen;
    auto seen_fd = [&]() -> base::Result<int> {
      if (seen.get() < 0) seen = TRY(open_same(parent->get(), leaf, rel, *local));
      return seen.get();
    };
    if (sum) {
      // rsync's 'c': the content differs (a different size says so at once).
      c.content = c.size || TRY(hash_file(TRY(seen_fd()), e.size, rel)) != *sum;
      same = !c.content;
    }
    if (so.xattrs) {
      int fd = TRY(seen_fd());
      Xattrs have = TRY(read_xattrs(fd, xattrs_privileged(), rel));
      c.xattrs = have != entry_xattrs_;
      if (same && c.xattrs && !so.dry_run)  // a replaced file gets them on its part file
        TRY_STATUS(write_xattrs(fd, have, entry_xattrs_, xattrs_privileged(), rel));
    }
    if (same) {
      if (c.any()) {
        item(item_changed('.', e.kind, c, shown_as(e, rel)));
        if (!so.dry_run) TRY_STATUS(fix_attributes(e, parent->get(), leaf, rel, *local));
      }
      return skip();
    }
    item(item_changed('>', e.kind, c, shown_as(e, rel)));
  } else {
    item(item_new(e.kind, shown_as(e, rel)));
  }
  if (so.dry_run) return skip();
  if (local && !regular) {
    if (!S_ISDIR(local->st_mode)) TRY_STATUS(remove_old(parent->get(), leaf, rel));
    return open_file(e, std::move(parent), leaf, rel);
  }
  if (!regular || local->st_size == 0 || deltas_in_flight() >= kMaxDeltasInFlight)
    return open_file(e, std::move(parent), leaf, rel);
  // A delta against the old copy, built into a fresh part file.
  Incoming in;
  in.entry = e;
  in.parent = std::move(parent);
  in.leaf = leaf;
  in.rel = rel;
  in.xattrs = entry_xattrs_;
  in.part = part_name_for(leaf);
  in.old = TRY(open_same(in.parent->get(), leaf, rel, *local));
  struct stat old = TRY(sys::fstat(in.old.get(), rel));
  in.fd = TRY(open_part_file(*in.parent, in.part, rel));
  in.lock = TRY(PartLocks::process().lock(in.fd.get(), rel, liveness_));
  TRY_STATUS(sys::ftruncate(in.fd.get(), 0, rel));
  auto old_size = static_cast<uint64_t>(old.st_size);
  in.applier = std::make_unique<sync::DeltaApplier>(
      in.old.get(), old_size, sync::block_size_for(old_size), in.fd.get(), e.size);
  base::UniqueFd for_signature(TRY(sys::dup(in.old.get())));
  TRY_STATUS(ch_.send(FrameType::kWant, encode(Want{e.id, WantHow::kDelta, {}})));
  incoming_.emplace(e.id, std::move(in));
  signatures_->queue(e.id, std::move(for_signature), old_size);
  return {};
}

base::Status Receiver::on_delta(std::span<const uint8_t> payload) {
  auto so_compress = [this] { return options_.sync && options_.sync->compress; };
  DeltaReader r(payload);
  uint32_t id = TRY(r.id());
  std::lock_guard lock(mu_);
  auto it = incoming_.find(id);
  if (it == incoming_.end() || !it->second.applier || it->second.delta_ended)
    return base::fail_msg(fmt::format("protocol error: DELTA for file {}, which awaits none", id));
  Incoming& in = it->second;
  StageTimer t(&counters_.stages, Stage::kSinkWrite);
  for (;;) {
    auto op = TRY(r.next());
    if (!op) return {};
    switch (*op) {
      case DeltaOpCode::kCopy: {
        DeltaCopy c = TRY(r.copy());
        if (in.failed) break;
        uint64_t before = in.applier->written();
        if (auto st = in.applier->copy(c.block, c.blocks); !st) return file_failed(in, st.error());
        counters_.bytes_skipped += in.applier->written() - before;
        break;
      }
      case DeltaOpCode::kLiteral: {
        auto bytes = TRY(r.literal());
        if (in.failed) break;
        if (auto st = in.applier->literal(bytes); !st) return file_failed(in, st.error());
        counters_.bytes_moved += bytes.size();
        outcome_.bytes += bytes.size();
        break;
      }
      case DeltaOpCode::kZLiteral: {
        if (!so_compress())
          return base::fail_msg("protocol error: a compressed literal without -z");
        DeltaZLiteral z = TRY(r.zliteral());
        auto bytes = decompressor_.decompress(z.packed, z.raw_len);
        if (!bytes) return base::fail_msg("protocol error: " + bytes.error().message());
        counters_.compressed_raw += z.raw_len;
        counters_.compressed_wire += z.packed.size();
        if (in.failed) break;
        if (auto st = in.applier->literal(*bytes); !st) return file_failed(in, st.error());
        counters_.bytes_moved += bytes->size();
        outcome_.bytes += bytes->size();
        break;
      }
      case DeltaOpCode::kEnd: {
        DeltaEnd end = TRY(r.end());
        in.delta_ended = true;
        if (in.failed) return {};
        in.high_water = in.applier->written();
        auto built = hash_file(in.fd.get(), in.high_water, in.entry.path);
        if (!built) return file_failed(in, built.error());
        if (in.high_water != in.entry.size)
          return file_failed(in, base::Error::msg(fmt::format(
                                     "protocol error: the delta of {} built {} bytes, not {}",
                                     in.entry.path, in.high_water, in.entry.size)));
        if (*built == end.hash) return {};
        return check_delta(in);
      }
    }
  }
}

base::Status Receiver::check_delta(Incoming& in) {
  // The rebuilt file is not the sender's (a block sum that matched falsely,
  // or the old file changed under us): ask for all of it, as plain data.
  base::log::warn("{}: the delta did not rebuild the file; asking for all of it", in.entry.path);
  counters_.retries++;
  if (++in.retries > kMaxRetries)
    return file_failed(
        in, base::Error::msg(fmt::format("{}: delta could not be applied", in.entry.path)));
  if (in.entry.size > kMaxResend)
    return file_failed(in, base::Error::msg(fmt::format(
                               "{}: the delta did not rebuild the file, and it is too large to "
                               "ask for again whole",
                               in.entry.path)));
  in.applier.reset();
  in.old.reset();
  for (uint64_t off = 0; off < in.entry.size; off += kResendPiece) {
    auto len = static_cast<uint32_t>(std::min<uint64_t>(kResendPiece, in.entry.size - off));
    in.bad_chunks[off] = len;
    TRY_STATUS(ch_.send(FrameType::kRetry, encode(Retry{in.entry.id, off, len})));
  }
  return ch_.flush();
}

base::Status Receiver::place_target(const Entry& first) {
  std::string leaf = std::move(*dest_.undecided_leaf);
  dest_.undecided_leaf.reset();
  if (first.kind != EntryKind::kDir) {
    dest_.rename_root = leaf;
    return {};
  }
  auto st = sys::fstatat(dest_.dir.get(), leaf, AT_SYMLINK_NOFOLLOW, dest_.shown);
  if (st) {
    if (!S_ISDIR(st->st_mode))
      return base::fail_msg(fmt::format(
          "target {}: not a directory; a directory is not synced over it", dest_.shown));
  } else if (st.error().code() != ENOENT) {
    return base::fail(std::move(st).error());
  }
  if (options_.sync->dry_run && !st) {
    dest_.missing = true;  // all of it would be new
    dry_new_dirs_.insert("");
    return {};
  }
  if (!st) {
    auto made = sys::mkdirat(dest_.dir.get(), leaf, 0755, dest_.shown);
    if (!made && made.error().code() != EEXIST) return base::fail(std::move(made).error());
  }
  dest_.dir = TRY(open_dir_beneath(dest_.dir.get(), leaf));
  dir_cache_.clear();
  return {};
}

void Receiver::make_hard_links() {
  for (const PendingLink& l : pending_links_)
    if (auto st = make_hard_link(l); !st) (void)note_error(st.error());
  pending_links_.clear();
}

base::Status Receiver::make_hard_link(const PendingLink& l) {
  const auto [first_dir, first_leaf] = split_parent(l.first);
  auto first_parent = TRY(parent_dir(first_dir));
  struct stat first =
      TRY(sys::fstatat(first_parent->get(), first_leaf, AT_SYMLINK_NOFOLLOW, l.first));
  if (!S_ISREG(first.st_mode))
    return base::fail_msg(
        fmt::format("{}: not linked: {} is not a regular file here", l.rel, l.first));
  const auto [dir, leaf] = split_parent(l.rel);
  auto parent = TRY(parent_dir(dir));
  std::optional<struct stat> local;
  if (auto st = sys::fstatat(parent->get(), leaf, AT_SYMLINK_NOFOLLOW, l.rel); st) {
    local = *st;
  } else if (st.error().code() != ENOENT) {
    return base::fail(std::move(st).error());
  }
  if (local && local->st_dev == first.st_dev && local->st_ino == first.st_ino) return {};
  if (local && S_ISREG(local->st_mode)) {
    ItemChanges c;
    c.size = local->st_size != first.st_size;
    c.time = !same_mtime(*local, l.entry);
    c.perms = (local->st_mode & 07777) != l.entry.mode;
    item(item_changed('h', EntryKind::kHardLink, c, l.rel, l.first));
  } else {
    item(item_new(EntryKind::kHardLink, l.rel, l.first));
  }
  if (options_.sync->dry_run) return {};
  if (local && S_ISDIR(local->st_mode)) TRY_STATUS(make_way(parent->get(), leaf, l.rel, *local));
  if (local && !S_ISDIR(local->st_mode)) TRY_STATUS(keep_old(parent->get(), leaf, l.rel));
  // Made under a part name and renamed over the old one: the name is never
  // missing, and never half made.
  std::string tmp = part_name_for(leaf);
  (void)sys::unlinkat(parent->get(), tmp, 0);
  TRY_STATUS(sys::linkat(first_parent->get(), first_leaf, parent->get(), tmp, 0, l.rel));
  auto renamed = sys::renameat(parent->get(), tmp, parent->get(), leaf, l.rel);
  if (!renamed) {
    (void)sys::unlinkat(parent->get(), tmp, 0);
    return base::fail(std::move(renamed).error());
  }
  outcome_.entries++;
  return {};
}

void Receiver::sweep_extraneous() {
  if (!sweep_) return;
  std::vector<std::string> errors;
  outcome_.deleted = sweep_->run(&errors);
  for (const auto& e : errors) (void)note_error(base::Error::msg(e));
}

}  // namespace ferry
