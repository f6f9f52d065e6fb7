#include "oci/wait_forwarding.h"

#include <sys/wait.h>

#include <atomic>
#include <initializer_list>

#include "base/sys.h"

namespace oci {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
constexpr int kInterrupts[] = {SIGINT, SIGTERM, SIGHUP};

volatile pid_t g_forward_to = 0;
volatile sig_atomic_t g_interrupts_kill = 0;
volatile sig_atomic_t g_interrupt = 0;
// While an InterruptsKill lives, the children being waited for, on any
// thread (a build runs stages side by side): an interrupt kills them all.
constexpr size_t kMaxKillable = 16;
std::atomic<pid_t> g_killable[kMaxKillable];
static_assert(std::atomic<pid_t>::is_always_lock_free);  // read in a signal handler

void kill_all_killable() {
  for (auto& slot : g_killable)
    if (pid_t p = slot.load(); p > 0) base::sys::kill_in_signal_handler(p, SIGKILL);
}

bool is_interrupt(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

void forward(int sig) {
  if (g_interrupts_kill && is_interrupt(sig)) {
    if (g_interrupt == 0) g_interrupt = sig;
    kill_all_killable();
    return;
  }
  if (g_forward_to > 0) base::sys::kill_in_signal_handler(g_forward_to, sig);
}

void install(int sig, struct sigaction* before) {
  struct sigaction sa {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  ::sigaction(sig, &sa, before);
}

}  // namespace

void forward_signals_to(pid_t pid) {
  g_forward_to = pid;
  for (int sig : kForwarded) install(sig, nullptr);
}

int exit_status_of(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

namespace {

// Reaps `pid`: its exit status, or 255 when it cannot be waited for (SIGCHLD
// ignored by whoever started us, say), never a false 0.
int reaped_status(pid_t pid) {
  auto waited = base::sys::waitpid(pid, false);
  if (!waited || !*waited) return 255;
  return exit_status_of(**waited);
}

// The wait under an InterruptsKill: its handlers stay as they are (several
// threads may wait at once); the child is registered to be killed instead.
int wait_killable(pid_t pid) {
  std::atomic<pid_t>* slot = nullptr;
  for (auto& s : g_killable) {
    pid_t free = 0;
    if (s.compare_exchange_strong(free, pid)) {
      slot = &s;
      break;
    }
  }
  // An interrupt that came before the child was registered ends it now. (With
  // every slot taken the child is waited for unregistered: it then runs to its
  // end, and the caller stops after it.)
  if (g_interrupt) base::sys::kill_in_signal_handler(pid, SIGKILL);
  // Out of the slot before it is reaped: a handler must never kill a pid
  // that has been given to another process.
  (void)base::sys::wait_exited_unreaped(pid);
  if (slot) slot->store(0);
  return reaped_status(pid);
}

}  // namespace

int wait_forwarding_signals(pid_t pid) {
  if (g_interrupts_kill) return wait_killable(pid);
  forward_signals_to(pid);
  (void)base::sys::wait_exited_unreaped(pid);
  // The handlers stay, forwarding to nobody: a second Ctrl-C must not end a
  // runtime that is still deleting the container (cgroup, state, poststop).
  g_forward_to = 0;
  return reaped_status(pid);
}

InterruptsKill::InterruptsKill() {
  g_interrupt = 0;
  g_interrupts_kill = 1;
  for (size_t i = 0; i < std::size(kInterrupts); ++i) install(kInterrupts[i], &before_[i]);
}

InterruptsKill::~InterruptsKill() {
  for (size_t i = 0; i < std::size(kInterrupts); ++i)
    ::sigaction(kInterrupts[i], &before_[i], nullptr);
  g_interrupts_kill = 0;
}

int interrupt_signal() {
  return g_interrupt;
}

}  // namespace oci
