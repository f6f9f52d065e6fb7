// A container's monitor (conmon's job): the process that creates and starts
// the container through src/oci (so the container's init is its child) with
// stdio of the engine's own (pipes, container_stdio.h; a pty with -t),
// copies the container's stdout and stderr into the log as JSON lines of at
// most 16 KiB of output each (and to its own stdout/stderr when attached;
// its stdin into the container when attached with -i), reaps it, records
// the exit status, deletes the runtime container, unmounts the root
// filesystem, and removes the container when it was run with --rm.
// `ready_fd` gets "ok\n" once the program runs, or the error that stopped
// it; attached, it stays open and then gets "exit N\n" as soon as the
// container is gone and unmounted (a --rm container's files are deleted
// after that), or "exit 141\n" at once when the attached reader went away
// (the container then runs on, logged, as if detached).
// An exception ends the monitor with 125, never unwinding into its caller.
// Thread-safety: owns its process; run it in a process of its own.
#pragma once

#include <string>

namespace berth {

struct MonitorOptions {
  std::string root;      // berth's --root
  std::string run_root;  // berth-oci state (--run-root)
  std::string id;
  bool attach = false;
  int ready_fd = -1;
};

// Returns the container's exit status (128+n for signal n), or 125 when it never started.
int run_monitor(const MonitorOptions& o);

}  // namespace berth
