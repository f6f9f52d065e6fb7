// Destination: where a receiver may write, and how incoming names map there.
//
// Like scp: if the target is an existing directory, entries land inside it;
// otherwise (a single source only) the target names the copy itself, so the
// first component of every entry path is replaced by the target's name.
// A target that exists and is neither a directory nor a regular file (a
// device such as /dev/null, a FIFO) is never replaced: like cp, the user's
// own target is opened (then checked, so nothing is swapped in between) and
// the one file written into it in order (a stream); a confined (served)
// target of that kind is refused. A symlink the user names is written
// through: the file it leads to is replaced, never the link (/dev/stdout).
// (Inside a destination directory the receiver refuses to replace a device,
// FIFO or socket as well.)
// All writes then happen beneath `dir` via openat2(RESOLVE_BENEATH), so no
// name from the peer and no symlink in the target can lead a write outside.
// Thread-safety: plain value.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

struct Destination {
  base::UniqueFd dir;
  std::optional<std::string> rename_root;
  std::string shown;           // the target as the user wrote it, for messages
  int stream_fd = -1;          // instead of a directory: write the one file, in order, here
  base::UniqueFd stream_file;  // owns stream_fd when it is a device or FIFO opened here
  bool missing = false;        // a dry-run sync's target that does not exist yet
  bool made = false;           // a sync's target that resolving it made
  // A sync's target that is not a directory (missing, a file or a link) with
  // one source: rsync's rule makes it the copy of a file or link, or a new
  // directory holding the source's directory, which only the first entry
  // tells. Until then `dir` is the target's parent and this its name there
  // (Receiver::place_target).
  std::optional<std::string> undecided_leaf;

  // Standard output as the stream.
  static Destination standard_output();
};

// `target` is resolved from `base_fd`; when `confined`, it must also stay
// beneath `base_fd` (a server's served directory).
base::Result<Destination> resolve_destination(int base_fd, const std::string& target,
                                              size_t source_count, bool confined);

// A sync's target (rsync's rules). An existing directory holds the copy.
// Else, with one source (`one_source`: not its contents, and no '/' ending
// the target), the target is left undecided (see undecided_leaf): a file or
// link source becomes it, a directory source goes into it, made then. Else
// the target is a directory, made if missing (its parent must exist). A
// device, FIFO or socket is never a target. In a dry run a missing target
// is not made: `missing` is set and `dir` is its parent.
base::Result<Destination> resolve_sync_destination(int base_fd, const std::string& target,
                                                   bool confined, bool dry_run, bool one_source);

// Opens `rel` ("" or "." for `root` itself) as a directory beneath `root`.
base::Result<base::UniqueFd> open_dir_beneath(int root, const std::string& rel);

}  // namespace ferry
