#include "oci/wait_forwarding.h"

#include <sys/wait.h>

#include <initializer_list>

#include "base/sys.h"

namespace oci {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
constexpr int kInterrupts[] = {SIGINT, SIGTERM, SIGHUP};

volatile pid_t g_forward_to = 0;
volatile sig_atomic_t g_interrupts_kill = 0;
volatile sig_atomic_t g_interrupt = 0;

bool is_interrupt(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

void forward(int sig) {
  if (g_interrupts_kill && is_interrupt(sig)) {
    if (g_interrupt == 0) g_interrupt = sig;
    if (g_forward_to > 0) base::sys::kill_in_signal_handler(g_forward_to, SIGKILL);
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

int wait_forwarding_signals(pid_t pid) {
  struct sigaction before[std::size(kForwarded)];
  g_forward_to = pid;
  for (size_t i = 0; i < std::size(kForwarded); ++i) install(kForwarded[i], &before[i]);
  // An interrupt that came before the child existed ends it at once.
  if (g_interrupts_kill && g_interrupt) base::sys::kill_in_signal_handler(pid, SIGKILL);
  auto waited = base::sys::waitpid(pid, false);
  int status = waited && *waited ? **waited : 0;
  g_forward_to = 0;
  for (size_t i = 0; i < std::size(kForwarded); ++i)
    ::sigaction(kForwarded[i], &before[i], nullptr);
  return exit_status_of(status);
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
