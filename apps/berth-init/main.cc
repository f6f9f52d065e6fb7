// berth-init: a container's first process for `berth run --init` (docker's
// docker-init, tini's job).
//   berth-init -- PROGRAM [ARG...]
// Runs PROGRAM as its child (PROGRAM looked up in PATH when it has no '/'),
// passes on to it the signals a container is sent (TERM, INT, HUP, QUIT,
// USR1, USR2, WINCH, CONT, ALRM), reaps every orphan the kernel hands to
// pid 1, and exits as the child did: its status, or 128+N for signal N.
// A pid 1 that is a shell or a server ignores SIGTERM unless it handles it,
// and leaves zombies; this one does neither.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace {

constexpr std::array<int, 10> kPassedOn = {SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
                                           SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPIPE};

// PROGRAM as execve wants it: itself when it has a '/', else the first
// executable of that name in PATH.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
    start = colon == std::string::npos ? dirs.size() + 1 : colon + 1;
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (base::sys::access(candidate, X_OK)) return candidate;
  }
  return program;
}

int exit_status(int raw) {
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::string(argv[first]) == "--") ++first;
  if (first >= argc) {
    std::fprintf(stderr, "berth-init: usage: berth-init -- PROGRAM [ARG...]\n");
    return 2;
  }
  std::vector<int> watched(kPassedOn.begin(), kPassedOn.end());
  watched.push_back(SIGCHLD);
  if (!base::sys::block_signals(watched)) return 125;
  auto signals = base::sys::signalfd(watched, "signals");
  if (!signals) {
    std::fprintf(stderr, "berth-init: %s\n", signals.error().message().c_str());
    return 125;
  }
  auto child = base::sys::fork("the program");
  if (!child) {
    std::fprintf(stderr, "berth-init: %s\n", child.error().message().c_str());
    return 125;
  }
  if (*child == 0) {
    signals->reset();
    if (!base::sys::unblock_signals(watched)) _exit(125);
    std::string path = resolve(argv[first]);
    base::Error e = base::sys::execve(path, argv + first, environ);
    std::fprintf(stderr, "berth-init: %s: %s\n", argv[first], e.message().c_str());
    _exit(e.code() == ENOENT ? 127 : 126);
  }
  for (;;) {
    if (!base::sys::poll_one(signals->get(), POLLIN, -1)) return 125;
    signalfd_siginfo info{};
    for (;;) {
      auto n = base::sys::read(signals->get(), &info, sizeof info);
      if (!n || *n != sizeof info) break;  // EAGAIN: all read
      int sig = static_cast<int>(info.ssi_signo);
      if (sig != SIGCHLD) {
        (void)base::sys::kill(*child, sig);
        continue;
      }
      for (;;) {  // every child that ended: ours, and orphans handed to pid 1
        auto reaped = base::sys::wait_any(true);
        if (!reaped || !*reaped) break;
        if ((*reaped)->first == *child) return exit_status((*reaped)->second);
      }
    }
  }
}
