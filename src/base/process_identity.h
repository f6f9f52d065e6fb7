// Which process a pid means: a pid alone can be reused by an unrelated
// process once the first has gone, so a process is known by its pid and
// its start time (field 22 of /proc/<pid>/stat, clock ticks since boot).
// The one test of "is that process still the one we recorded" for the
// whole project (berth-oci's state, berth's records and attachments).
// Thread-safety: pure reads of /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace base {

// The start time of `pid`, or 0 when there is no such process (or only its
// zombie is left, which is gone for every purpose here).
uint64_t process_start_time(pid_t pid);

// The scheduler state of `pid` (field 3 of /proc/<pid>/stat: 'R' running or
// runnable, 'S' sleeping, 'D' in uninterruptible wait, 'Z' a zombie, ...), or
// 0 when there is no such process.
char process_state(pid_t pid);

struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_time = 0;

  // Whether that very process still runs: never true for pid <= 0 or an
  // unknown start time.
  bool alive() const;
};

}  // namespace base
