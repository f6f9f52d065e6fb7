// berth's default seccomp profile, Docker's policy in short form: every
// system call is allowed except those Docker's default profile blocks for a
// container without extra capabilities (kernel modules, keyrings, clocks,
// reboot, swap, bpf, perf, ptrace and process_vm_*, mount and namespace
// changes, open_by_handle_at, userfaultfd...), which fail with EPERM.
// `berth run --security-opt seccomp=unconfined` runs without it.
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

namespace berth {

// The OCI `linux.seccomp` object.
nlohmann::json default_seccomp_profile();

}  // namespace berth
