#include "oci/wait_forwarding.h"

#include <signal.h>
#include <sys/wait.h>

#include <initializer_list>

#include "base/sys.h"

namespace oci {
namespace {

volatile pid_t g_forward_to = 0;
void forward(int sig) {
  if (g_forward_to > 0) base::sys::kill_in_signal_handler(g_forward_to, sig);
}

}  // namespace

void forward_signals_to(pid_t pid) {
  g_forward_to = pid;
  struct sigaction sa {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
    ::sigaction(sig, &sa, nullptr);
}

int exit_status_of(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

int wait_forwarding_signals(pid_t pid) {
  forward_signals_to(pid);
  auto waited = base::sys::waitpid(pid, false);
  int status = waited && *waited ? **waited : 0;
  g_forward_to = 0;
  return exit_status_of(status);
}

}  // namespace oci
