// berth's default seccomp profile: Docker's default policy for a container
// with Docker's default capabilities, as an allowlist. Calls not named fail
// with ENOSYS (so libc falls back, as from clone3 to clone); calls that need a
// capability the container lacks fail with EPERM. The allowlist is the
// containers project's (Debian's /usr/share/containers/seccomp.json, which
// podman uses) less what Docker denies without CAP_SYS_ADMIN and the like:
// mounts, namespaces (unshare, setns, clone with a CLONE_NEW* flag, clone3),
// keyrings, NUMA policy, reboot and syslog. io_uring is not allowed, and
// personality() only with the harmless values.
// `berth run --security-opt seccomp=unconfined` runs without it.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth {

// The OCI `linux.seccomp` object.
nlohmann::json default_seccomp_profile();

// The calls the containers project's profile allows that berth denies with
// EPERM, as Docker does for a container without the capability they need.
const std::vector<std::string>& calls_denied_beyond_podman();

}  // namespace berth
