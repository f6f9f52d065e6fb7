// Receiver: takes a tree from a Sender over a Channel and writes it beneath
// a Destination.
//
// Each file is written to a hidden part file next to its final name
// (".NAME.ferry-part"), checked chunk by chunk against the sender's XXH3
// (a mismatch is asked for again, up to kMaxRetries times per file), and
// renamed to its final name only once whole, with its mode and mtime set.
// A part file left by an interrupted transfer is resumed: the receiver sends
// the hashes of the blocks it holds and the sender re-sends only the rest.
// Directories get their mode and mtime after their contents are written.
//
// Every path from the peer is checked (peer_path.h) and opened beneath the
// destination with openat2(RESOLVE_BENEATH); final components are never
// followed if they are symlinks.
// Thread-safety: run() drives the primary stream on the calling thread and
// one thread per extra stream; their shared state is guarded by one mutex.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "ferry/channel.h"
#include "ferry/chunk_codec.h"
#include "ferry/counters.h"
#include "ferry/destination.h"
#include "ferry/messages.h"
#include "ferry/monitor.h"
#include "ferry/part_locks.h"
#include "ferry/requested_tree.h"
#include "ferry/signature_worker.h"
#include "ferry/sync/delta_apply.h"
#include "ferry/sync/filter_rules.h"
#include "ferry/sync_backup.h"
#include "ferry/sync_delete.h"
#include "ferry/sync_messages.h"

namespace ferry {

// `ferry sync`'s receiving side (rsync's semantics): a file whose size and
// mtime (or, with checksum, content) match is skipped and only its attributes
// fixed; a changed file whose old copy is here comes as a delta against it;
// something of another kind in the way is replaced; with delete, what the
// sender did not announce goes (ExtraneousSweep). dry_run changes nothing.
struct SyncReceive {
  bool delete_extraneous = false;
  bool checksum = false;
  bool dry_run = false;
  bool contents = false;  // the one source's contents are the target itself
  bool compress = false;  // -z: DATA_Z and compressed delta literals may come
  std::shared_ptr<const sync::FilterRules> filter;  // protects from deletion
  // --backup: what is replaced or deleted is kept there first; or null.
  std::shared_ptr<Backups> backups;
  // Itemized changes (rsync's -i lines), or empty. Called with the
  // receiver's lock held.
  std::function<void(const std::string&)> item;
  bool hard_links = false;  // -H: kHardLink entries may come
  bool xattrs = false;      // -X: XATTRS frames may come; attributes are made the sender's
};

struct ReceiveOptions {
  bool skip_whole = false;  // --resume: skip files with the same size and mtime
  bool fsync = false;
  // Take owners and set-id bits from the peer (as root). A client trusts the
  // server it chose; a server trusts its token holders only when told to
  // (`ferry serve --keep-owners`): else every file is its own and no file
  // keeps a setuid or setgid bit, so no token holder plants a set-id program.
  bool keep_owners = true;
  // A download's request: every announced entry is checked against it, and a
  // requested source nothing arrived for is an error in the outcome.
  std::optional<RequestedTree> requested;
  std::optional<SyncReceive> sync;
};

struct ReceiveOutcome {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t deleted = 0;  // sync --delete
  std::vector<std::string> errors;
};

class Receiver {
 public:
  static constexpr int kMaxRetries = 3;

  // `extra`: further streams of a parallel transfer, each drained by its own
  // thread; they carry only DATA and FILE_END.
  Receiver(Channel& channel, Destination dest, ReceiveOptions options, Counters& counters,
           std::vector<Channel*> extra = {});
  base::Result<ReceiveOutcome> run();
  // Diagnosis: peer samples go to `monitor`; post_stats() sends our own
  // sample to the sender at once (any thread; dropped once finished).
  void set_monitor(Monitor* monitor) { monitor_ = monitor; }
  void post_stats(const Sample& s);

 private:
  struct Incoming {
    Entry entry;
    std::shared_ptr<base::UniqueFd> parent;
    std::string leaf;
    std::string rel;  // where it goes, beneath the target
    std::string part;
    PartLocks::Held lock;  // before fd: its entry goes after the descriptor closes
    base::UniqueFd fd;
    uint64_t high_water = 0;  // end of the furthest byte written
    uint64_t allocated = 0;   // preallocated up to here (0 and false: not preallocated)
    bool preallocate = false;
    uint64_t resumed_until = 0;  // bytes kept from an earlier, interrupted run
    std::unordered_map<uint64_t, uint32_t> bad_chunks;  // offset -> length awaiting re-send
    int retries = 0;
    bool failed = false;
    uint8_t ends_needed = 0;  // FILE_ENDs that complete the file (its stream count)
    uint8_t ends_seen = 0;
    bool ended_on_primary = false;
    bool stream = false;  // written in order to Destination::stream_fd
    // A sync's delta: built from the old file (`old`) and DELTA ops.
    base::UniqueFd old;
    std::unique_ptr<sync::DeltaApplier> applier;
    bool delta_ended = false;
    Xattrs xattrs;  // -X: set on the part file before it takes its name
  };
  struct DirMeta {
    std::string path;
    Entry entry;
  };

  bool takes_owner(const Entry& e) const;
  // After a failed transfer: removes the part files that got no byte (they
  // would only litter the target); those holding data stay, for a resume.
  void drop_empty_parts();
  base::Status on_entry(std::span<const uint8_t> payload);
  // A sync's undecided target (Destination::undecided_leaf), placed by the
  // first entry's kind: a file or link is named the target; a directory
  // goes inside the target, made now.
  base::Status place_target(const Entry& first);
  base::Status on_data(std::span<const uint8_t> payload);
  // A DATA_Z (stream 0 only): unpacked, then taken as DATA.
  base::Status on_data_z(std::span<const uint8_t> payload);
  base::Status take_data(const DataHeader& h, std::span<const uint8_t> data);
  base::Status on_file_end(std::span<const uint8_t> payload, bool primary);
  // Sync (receiver_sync.cc).
  base::Status on_sum(std::span<const uint8_t> payload);
  base::Status on_xattrs(std::span<const uint8_t> payload);
  // -X: whether this side may set the privileged namespaces.
  bool xattrs_privileged() const;
  // -X: `fd`'s attributes against the entry's; made the same unless a dry
  // run. Returns whether they differed.
  base::Result<bool> sync_xattrs(int fd, const std::string& rel);
  base::Status on_delta(std::span<const uint8_t> payload);
  void item(const std::string& line);
  // The name an itemized line gives entry `e`, at `rel` here.
  const std::string& shown_as(const Entry& e, const std::string& rel) const;
  size_t deltas_in_flight() const;
  // A sync's entry in place of make_dir/make_symlink/open_file: decides
  // against what is here, itemizes, and does (or, dry, skips) the work.
  base::Status sync_entry(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                          const std::string& leaf, const std::string& rel);
  base::Status sync_file(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                         const std::string& leaf, const std::string& rel,
                         const std::optional<struct stat>& local);
  // --backup: keeps the non-directory at `leaf` before it is replaced or
  // removed (nothing there, or a directory: nothing to do).
  base::Status keep_old(int parent, const std::string& leaf, const std::string& rel);
  // Removes the non-directory at `leaf`, or with --backup keeps it.
  base::Status remove_old(int parent, const std::string& leaf, const std::string& rel);
  // Removes what is at `leaf` so an entry of another kind can take its place.
  base::Status make_way(int parent, const std::string& leaf, const std::string& rel,
                        const struct stat& local);
  base::Status fix_attributes(const Entry& e, int parent, const std::string& leaf,
                              const std::string& rel, const struct stat& local);
  base::Status check_delta(Incoming& in);
  void sweep_extraneous();
  // -H: each further name of a file, made once every file is in place
  // (the first name may still be arriving when the link is announced).
  struct PendingLink {
    std::string rel;    // the new name, beneath the target
    std::string first;  // the file's first name, beneath the target
    Entry entry;
  };
  void make_hard_links();
  base::Status make_hard_link(const PendingLink& l);
  // Sends RESULT once DONE came and every file is finished (under mu_).
  base::Status maybe_finish();
  base::Status finish();
  base::Status primary_loop();
  void drain_stream(Channel& c);

  base::Result<std::string> local_path(const std::string& entry_path);
  base::Result<std::shared_ptr<base::UniqueFd>> parent_dir(const std::string& rel_parent);
  base::Status make_dir(const Entry& e, int parent, const std::string& leaf,
                        const std::string& rel);
  base::Status make_symlink(const Entry& e, int parent, const std::string& leaf);
  base::Status open_file(const Entry& e, std::shared_ptr<base::UniqueFd> parent,
                         const std::string& leaf, const std::string& rel);
  base::Status finalize(Incoming& in);
  // Reserves disk space from in.allocated to past `end`, a window at a time.
  base::Status reserve_ahead(Incoming& in, uint64_t end);
  base::Status write_stream(Incoming& in, uint64_t offset, std::span<const uint8_t> data);
  // Records a per-file failure; returns an error only for failures that end
  // the whole transfer (a full disk, an I/O error).
  base::Status file_failed(Incoming& in, const base::Error& e);
  base::Status note_error(const base::Error& e);

  Channel& ch_;
  std::vector<Channel*> extra_;
  Monitor* monitor_ = nullptr;
  // Guards everything below that the stream threads share: incoming_, the
  // outcome, done_/fatal_, and sending on ch_.
  std::mutex mu_;
  std::optional<base::Error> fatal_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopping_{false};
  Destination dest_;
  ReceiveOptions options_;
  Counters& counters_;
  std::shared_ptr<ReceiverLiveness> liveness_;  // this connection, for PartLocks
  std::unordered_map<uint32_t, Incoming> incoming_;
  std::unordered_map<std::string, std::shared_ptr<base::UniqueFd>> dir_cache_;
  std::vector<DirMeta> dirs_;
  std::string first_root_;
  uint32_t last_id_ = 0;
  bool dest_in_memory_ = false;  // tmpfs: no preallocation
  bool stream_used_ = false;
  std::unordered_map<uint32_t, ContentHash> sums_;  // SUM frames awaiting their ENTRY
  std::unordered_map<uint32_t, Xattrs> xattrs_;     // XATTRS frames awaiting their ENTRY
  Xattrs entry_xattrs_;                             // the current ENTRY's (-X)
  std::optional<ExtraneousSweep> sweep_;
  std::unordered_map<std::string, std::string> link_leaders_;  // -H: entry path -> rel
  std::vector<PendingLink> pending_links_;
  std::unordered_set<std::string> dry_new_dirs_;  // a dry run's directories that would be made
  // A sync's: reads old copies for deltas. Last, so it stops first.
  std::unique_ptr<SignatureWorker> signatures_;
  ChunkDecompressor decompressor_;  // -z; the primary stream's thread only
  bool done_ = false;
  ReceiveOutcome outcome_;
};

}  // namespace ferry
