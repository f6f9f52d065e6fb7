// A container's monitor (conmon's job): the process that creates and starts
// the container through src/oci (so the container's init is its child) with
// stdio of the engine's own (pipes, container_stdio.h; a pty with -t),
// copies the container's stdout and stderr into the log as JSON lines of at
// most 16 KiB of output each (and to its own stdout/stderr when attached;
// its stdin into the container when attached with -i), reaps it, restarts
// it as its policy says, and at the end takes back what it held on the host
// (container_resources.h), records the exit status, and removes a --rm
// container.
//
// While it runs it holds the container's LifeLock (<dir>/monitor.lock), the
// only proof of life berth trusts (container_handle.h).
//
// It talks to the `berth` command that started it over `channel`, a
// SOCK_SEQPACKET socket, in src/oci's message format (oci/sync_socket.h):
//   monitor -> berth  "running" <pid> <monitor pid>   the program runs
//                     "error" <reason>  it never ran; the monitor has deleted
//                                       the runtime container and exits; the
//                                       root and network are berth's to undo
//   berth -> monitor  "go"              berth recorded it running: from now on
//                                       the monitor owns its root and network
//                     (end of file)     berth is gone or failed: the monitor
//                                       kills the container and cleans up
//   monitor -> berth  "exit" <status>[ oom]   attached only: the container is
//                                       gone (" oom": the OOM killer ended it)
//                                       (sent at once, 141, when the attached
//                                       reader went away; it then runs on,
//                                       logged, as if detached)
// Records are written under the container's lock (container_handle.h).
// With health checks (health.h) it keeps a checker process for each life
// of the container.
// Fault-injection seams: "monitor.create", "monitor.start".
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
  int channel = -1;  // SOCK_SEQPACKET, see above
};

// Returns the container's exit status (128+n for signal n), or 125 when it never started.
int run_monitor(const MonitorOptions& o);

}  // namespace berth
