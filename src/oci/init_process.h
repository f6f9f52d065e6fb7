// The container's first process, from clone() to execve(). It runs in the new
// user/pid namespaces the runtime cloned it into and, in order: waits for the
// runtime to map ids and place it in its cgroup; joins namespaces given by
// path; unshares the rest; sets hostname; builds the root filesystem (asking
// the runtime to run prestart/createRuntime hooks, running createContainer
// hooks itself); pivots; writes sysctls; sets up the terminal; resolves the
// program; reports "ready" and blocks on exec.fifo until `start`; runs
// startContainer hooks; drops privileges and executes the program.
// Before "ready", failures go back to the runtime as one line; after it, to stderr.
#pragma once

#include <array>
#include <vector>

#include "oci/container_plan.h"

namespace oci {

struct InitChannels {
  int sync_fd = -1;     // SOCK_SEQPACKET to the runtime
  int fifo_fd = -1;     // exec.fifo, opened O_RDWR: start writes one byte to it and
                        // waits for this fd to close at execve
  int console_fd = -1;  // --console-socket connection when process.terminal
  // Descriptors that become the init's 0, 1 and 2; -1: the runtime's own.
  std::array<int, 3> stdio = {-1, -1, -1};
  // v1 cgroup `tasks` files the init writes "0" to, to enter its cgroup
  // (Cgroup::open_entry); closed once written.
  std::vector<int> cgroup_tasks;
};

// Makes `stdio[i]` descriptor i (where it is not -1), in a child before exec.
base::Status install_stdio(const std::array<int, 3>& stdio);
// An engine relaying pipes ignores SIGPIPE; its container's program must not
// inherit that (runc's, started from Go, never does). Call before exec.
void restore_default_sigpipe();

[[noreturn]] void run_init(const ContainerPlan& plan, const InitChannels& ch);

}  // namespace oci
