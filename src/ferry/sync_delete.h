// ExtraneousSweep: rsync's --delete for a sync's receiver. While entries
// arrive, the receiver records each local path the sender announced; after
// the last one (DONE), run() lists every announced directory and removes what
// the sender did not announce — except what the receiver's filter rules
// protect (an excluded name is protected unless --delete-excluded) and
// ferry's own part files. An extraneous directory goes with its contents,
// unless something inside is protected; then it stays, with that inside.
// With dry_run nothing is removed; each deletion is only reported. With
// backups, a deleted file is kept (moved aside) instead; a directory then
// goes only once its contents have left it.
//
// Safety: every directory is opened beneath the target with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and entries are removed with
// unlinkat in that directory's fd, so no symlink (planted before or during the
// sweep) leads a deletion outside the target.
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "ferry/sync/filter_rules.h"
#include "ferry/sync_backup.h"

namespace ferry {

struct SweepOptions {
  bool dry_run = false;
  const sync::FilterRules* filter = nullptr;  // may be null: nothing protected
  // Each deletion, as an itemized line ("*deleting   a/b"); may be empty.
  std::function<void(const std::string&)> item;
  // --backup: a deleted non-directory is kept there instead, and what it
  // made (backups, its directory) is never deleted; may be null.
  Backups* backups = nullptr;
  // Where the swept directory lies beneath the target, for backups' paths.
  std::string within;
};

class ExtraneousSweep {
 public:
  ExtraneousSweep(int root_fd, SweepOptions options);
  // `rel` (relative to the target; "" for the target itself) was announced.
  // Announced directories are swept, in the order announced.
  void announced(const std::string& rel, bool is_dir);
  // Deletes; per-entry failures are appended to `errors`. Returns how many
  // entries were (or, dry, would be) deleted.
  uint64_t run(std::vector<std::string>* errors);

 private:
  struct Walk;
  // Removes the extraneous `name` in `dir` (a directory: its contents first).
  // False when something protected inside kept it.
  bool remove(Walk& w, int dir, const std::string& name, const std::string& rel,
              std::vector<std::string>* errors);

  int root_;
  SweepOptions options_;
  std::unordered_set<std::string> announced_;
  std::vector<std::string> dirs_;
  uint64_t deleted_ = 0;
};

}  // namespace ferry
