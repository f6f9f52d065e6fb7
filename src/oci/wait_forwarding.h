// Waiting for a child the way a foreground runtime must: signals sent to the
// runtime (Ctrl-C, TERM from a supervisor, window changes) are passed on to
// the child while it runs, and the result is a shell-style exit status.
// Used by `run`, `exec` and berth's container monitor.
// Thread-safety: installs process-wide signal handlers; one wait at a time.
#pragma once

#include <sys/types.h>

namespace oci {

// Forwards INT, TERM, HUP, QUIT, USR1, USR2 and WINCH to `pid` until it exits;
// returns its exit status, or 128+n when signal n ended it.
int wait_forwarding_signals(pid_t pid);
// Only installs the forwarding (for callers that wait in their own loop).
void forward_signals_to(pid_t pid);
// The exit status of a wait status, 128+n for signal n.
int exit_status_of(int wait_status);

}  // namespace oci
