// The mount points a RUN's runtime makes in the step's root (/proc, /dev,
// /sys, /etc/hosts, ... when the root lacks them, as a scratch-based stage
// does) are not part of what the step made: noted before the RUN, those that
// were missing and are still empty afterwards are removed again, deepest
// first, before the step is packed (BuildKit's mount-stub cleaning). A stub
// the program filled is kept. Paths resolve in the root (RESOLVE_IN_ROOT).
// Thread-safety: one object per step.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace berth::build {

class MountStubs {
 public:
  // Notes which of `targets` (absolute, in the root `root_fd`) do not exist,
  // with each missing parent.
  static MountStubs missing(int root_fd, const std::vector<std::string>& targets);
  // Removes those that are now an empty directory or an empty file.
  base::Status remove_empty(int root_fd) const;

 private:
  std::vector<std::string> paths_;  // relative to the root, deepest last
};

}  // namespace berth::build
