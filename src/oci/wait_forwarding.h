// Waiting for a child the way a foreground runtime must: signals sent to the
// runtime (Ctrl-C, TERM from a supervisor, window changes) are passed on to
// the child while it runs, and the result is a shell-style exit status.
// Used by `run`, `exec`, berth's container monitor, and `berth build`'s RUN
// steps (with InterruptsKill).
// Thread-safety: installs process-wide signal handlers; one wait at a time,
// except under an InterruptsKill.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>

namespace oci {

// Forwards INT, TERM, HUP, QUIT, USR1, USR2 and WINCH to `pid` until it exits;
// returns its exit status, 128+n when signal n ended it, or 255 when it
// cannot be waited for. The handlers then stay, forwarding to nobody, so
// that the caller's cleanup after the child is not cut short by a second
// Ctrl-C. A pid is forwarded to only until it ends, never once reaped.
int wait_forwarding_signals(pid_t pid);
// Only installs the forwarding (for callers that wait in their own loop, and
// keep it for the rest of their life).
void forward_signals_to(pid_t pid);
// The exit status of a wait status, 128+n for signal n.
int exit_status_of(int wait_status);

// While one lives, INT, TERM and HUP are not forwarded: they end every child
// being waited for, on any thread (up to 16 at once), with SIGKILL (a
// container's pid 1 ignores what it has no handler for), and between
// children they only are remembered. wait_forwarding_signals then leaves the
// handlers alone, so several threads may wait at once. Either way
// interrupt_signal() then names the first one, and the caller stops at its
// next step, its guards releasing what it holds. For `berth build`. The
// handlers there before are put back when it goes.
class InterruptsKill {
 public:
  InterruptsKill();
  ~InterruptsKill();
  InterruptsKill(const InterruptsKill&) = delete;
  InterruptsKill& operator=(const InterruptsKill&) = delete;

 private:
  std::array<struct sigaction, 3> before_{};
};
// The first INT, TERM or HUP that came while an InterruptsKill lived, or 0.
int interrupt_signal();

}  // namespace oci
