// Sender: sends a tree (from a TreeWalk) to a receiver over a Channel.
//
// It announces entries ahead of the data (up to a window of files awaiting
// an answer), so many small files cost no round trip each: while the
// receiver answers WANT for one file, the sender is already sending others.
// A reader thread collects the receiver's replies (ReplyQueue). For each
// file the receiver wants, the sender sends its data in DATA chunks of up to
// kChunkSize bytes, each with its XXH3, skipping holes of sparse files and,
// for a resumed file, the blocks the receiver already holds. A file that
// changes while it is read is reported (FILE_END "changed"), not sent torn.
//
// Thread-safety: run() owns the Channel's sending side and starts the one
// reader thread; it returns after that thread has ended.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "ferry/channel.h"
#include "ferry/chunk_codec.h"
#include "ferry/compression_policy.h"
#include "ferry/counters.h"
#include "ferry/messages.h"
#include "ferry/monitor.h"
#include "ferry/reply_queue.h"
#include "ferry/stream_writer.h"
#include "ferry/tree_walk.h"

namespace ferry {

// `ferry sync`'s sending side: SUM frames with --checksum, deltas for files
// the receiver answers WANT DELTA, compression, and the receiver's itemized
// changes.
struct SendSync {
  bool checksum = false;
  // DATA_Z chunks and compressed delta literals: always (-z), never, or
  // while the network is the limit (CompressionPolicy).
  CompressMode compress = CompressMode::kOff;
  bool xattrs = false;  // -X: XATTRS frames before the entries that have some
  // An ITEM line from the receiver (already made printable); may be empty.
  std::function<void(const std::string&)> on_item;
};

struct SendOutcome {
  std::vector<std::string> errors;  // this side's per-entry problems
  ResultMsg receiver;               // what the receiver reported
};

class Sender {
 public:
  // `extra`: further streams of a parallel transfer; large files' chunks are
  // spread over `channel` and these. Only `channel` carries control messages.
  Sender(Channel& channel, TreeWalk& walk, Counters& counters, std::vector<Channel*> extra = {});
  // Fails when the conversation fails; per-file problems go to errors.
  base::Result<SendOutcome> run();
  // Diagnosis: peer samples go to `monitor`; post_stats() queues our own
  // sample, sent on the primary stream at the next chance (any thread).
  void set_monitor(Monitor* monitor) { monitor_ = monitor; }
  void post_stats(const Sample& s);
  void set_sync(SendSync sync);

 private:
  struct Pending {
    base::UniqueFd file;
    Entry entry;
  };
  struct Origin {
    size_t root_index;
    std::string path_in_root;
    uint64_t size;
  };
  void read_replies();
  base::Status announce_next(bool* walk_done);
  base::Status serve(const Reply& reply);
  base::Status send_file(Pending& p, const Want& want);
  // A sync's changed file as DELTA ops against the receiver's old copy
  // (sender_delta.cc).
  base::Status send_delta(Pending& p);
  base::Result<SignatureBatch> next_signature(uint32_t id);
  base::Status send_sum(WalkItem& w);
  // A lazily walked file (TreeWalk::set_lazy_open), opened now: false when
  // it is no longer the file announced (then reported as changed).
  base::Result<bool> open_announced(base::UniqueFd& file, const Entry& e);
  // A growing entry (a pipe): read until end of input, in order.
  base::Status send_stream(Pending& p);
  // Sends [offset, offset+len) as DATA chunks; returns bytes actually read
  // (fewer when the file shrank).
  base::Result<uint64_t> send_range(int fd, const Entry& e, uint64_t offset, uint64_t len,
                                    bool spread);
  // The stream for the next chunk: 0, the primary (written by this thread),
  // or, spread, the one with the least waiting to go out; i > 0 is
  // writers_[i - 1].
  size_t pick(bool spread);
  // Reads a chunk at `offset` into a DATA payload (its prefix, with the
  // hash, then the data); the bytes read, 0 at end of file.
  base::Result<size_t> read_chunk(int fd, const Entry& e, uint64_t offset, uint32_t chunk,
                                  uint8_t* payload);
  base::Status flush_all();
  // With -z: the chunk at `offset` as DATA_Z, or as DATA when it does not
  // shrink; the bytes read.
  base::Result<size_t> send_chunk_compressed(int fd, const Entry& e, uint64_t offset,
                                             uint32_t chunk);
  // Whether the next chunk or literal goes compressed: asks the policy,
  // after showing it the monitor's latest verdict.
  bool compress_next();
  // Up to `len` bytes at `offset`; fewer only at the end of the file.
  static base::Result<size_t> pread_full(int fd, uint8_t* buf, size_t len, uint64_t offset,
                                         const std::string& what);
  base::Status send_pending_stats();
  base::Result<bool> send_block_if_changed(int fd, const Entry& e, uint64_t offset, uint32_t len,
                                           uint64_t have_hash);
  base::Status send_file_end(uint32_t id, FileEndStatus status, std::string message, bool spread);
  // FILE_END for a file whose data went out: "changed" if it shrank while
  // read or its size or mtime moved since it was announced.
  base::Status end_sent_file(int fd, const Entry& e, bool shrank, bool spread);

  Channel& ch_;
  std::vector<Channel*> all_;                           // ch_ first, then the extra streams
  std::vector<std::unique_ptr<StreamWriter>> writers_;  // one per extra stream, during run()
  size_t next_stream_ = 0;
  TreeWalk& walk_;
  Counters& counters_;
  ReplyQueue replies_;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Pending> awaiting_;
  std::unordered_map<uint32_t, Origin> origins_;  // for re-sends after RETRY
  std::vector<std::string> errors_;
  bool walk_failed_ = false;  // an entry could not be read (nor announced)
  Monitor* monitor_ = nullptr;
  std::optional<SendSync> sync_;
  std::unique_ptr<ChunkCompressor> compressor_;  // unless compression is off
  CompressionPolicy compression_;
  std::vector<uint8_t> raw_chunk_;  // a chunk read for compressing
  // The reader thread's: files answered WANT DELTA, and how many of their
  // block sums are still due (kUnknownBlocks before the first SIGNATURE).
  static constexpr uint64_t kUnknownBlocks = ~uint64_t{0};
  std::unordered_map<uint32_t, uint64_t> signatures_due_;
  std::mutex stats_mu_;
  std::string pending_stats_;
  std::atomic<bool> stats_waiting_{false};
};

}  // namespace ferry
