// Client: `ferry cp`. Copies local sources to a server (upload) or a
// server's sources to a local target (download), through one connection
// (and its parallel streams). The server is a ferry:// one (token), or one
// started for this transfer over ssh (ssh_session.h).
// A connection lost mid-transfer is retried (resuming from the part files
// already written) up to CopyOptions::reconnects times.
// Thread-safety: one copy() at a time per thread; no shared state.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "ferry/compression_policy.h"
#include "ferry/report.h"
#include "ferry/ssh_session.h"
#include "ferry/sync/filter_rules.h"
#include "ferry/sync_messages.h"

namespace ferry {

// `ferry sync`: rsync's job (docs/SYNC.md). Set in CopyOptions::sync.
struct SyncSpec {
  bool delete_extraneous = false;  // --delete
  bool delete_excluded = false;    // --delete-excluded
  bool checksum = false;           // -c: unchanged means the same content
  bool dry_run = false;            // -n
  bool itemize = false;            // -i: print rsync's itemized changes
  bool hard_links = false;         // -H: a file's several names stay one file
  bool xattrs = false;             // -X: extended attributes (xattrs.h)
  // zstd on the wire: -z always, --no-compress never, by default while the
  // network is the limit (CompressionPolicy).
  CompressMode compress = CompressMode::kAuto;
  sync::FilterRules filter;  // --exclude, --include, --filter, ...
  // --backup: where the receiver keeps what it replaces or deletes (a
  // suffix beside it, or a directory relative to the target); or none.
  std::optional<BackupMsg> backup;
};

struct CopyOptions {
  std::string token;
  bool plaintext = false;  // no TLS (--plaintext; the server must use it too)
  bool recursive = false;
  bool resume = false;  // skip files already whole at the receiver
  bool fsync = false;
  bool progress = true;
  int reconnects = 2;
  // Parallel TCP streams; 0 chooses: 4 when the round trip is 10 ms or more
  // (where one stream's window limits a fast path), else 1.
  int streams = 0;
  int sndbuf = 0;  // fixed socket buffer sizes in bytes; 0 keeps autotuning
  // --bwlimit: bytes a second this end reads or writes, all streams
  // together; 0 is no limit (rate_limit.h).
  uint64_t bwlimit = 0;
  int rcvbuf = 0;
  std::chrono::milliseconds interval{200};  // diagnosis sampling interval
  std::string trace;                        // --trace FILE (JSON Lines)
  std::chrono::milliseconds timeout{120000};
  SshOptions ssh;                // for [USER@]HOST:PATH operands
  std::optional<SyncSpec> sync;  // a sync, not a copy
};

base::Result<TransferReport> copy(const std::vector<std::string>& sources,
                                  const std::string& target, const CopyOptions& options);

}  // namespace ferry
