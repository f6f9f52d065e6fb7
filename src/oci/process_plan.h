// The container's process — who it runs as and with what limits — decoded and
// checked before anything is started, then applied by the process itself
// before its execve (a container's init: before it waits for `start`):
// rlimits, user and groups, the five capability sets, no_new_privs, seccomp,
// umask, cwd, and closing every fd except stdio and preserved ones.
// Shared by `create` (the container's first process) and `exec`.
// Thread-safety: become_process() and exec_process() change the calling
// process; single-threaded only.
#pragma once

#include <sys/resource.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "oci/config.h"
#include "oci/seccomp_filter.h"

namespace oci {

struct CapabilitySets {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct ProcessPlan {
  std::vector<std::string> args, env;
  std::string cwd;
  User user;
  std::optional<CapabilitySets> capabilities;
  std::vector<std::pair<int, struct rlimit>> rlimits;
  std::vector<std::string> rlimit_names;  // parallel to rlimits, for errors
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::optional<SeccompProgram> seccomp;
  bool terminal = false;
  uint16_t console_height = 0, console_width = 0;  // the pty's initial size, 0 = unset
  int preserve_fds = 0;
};

bool host_has_apparmor();
bool host_has_selinux();

// Checks names and limits (an rlimit above the host's hard limit without
// CAP_SYS_RESOURCE is refused here, naming the limit). An AppArmor profile or an
// SELinux label is refused: berth-oci applies neither.
base::Result<ProcessPlan> plan_process(const Process& p, const nlohmann::json& seccomp);

// Sets the rlimits (before privileges are dropped).
base::Status apply_rlimits(const ProcessPlan& p);
// $PATH lookup of args[0] in the current root; refuses the runtime's own binary
// (directly or as a script's interpreter), so a container cannot get a handle
// on the host's berth-oci through /proc/self/exe.
base::Result<std::string> resolve_executable(const ProcessPlan& p);
// Becomes the process: marks every fd past stdio and the preserved ones
// close-on-exec, enters the cwd, loads seccomp when no_new_privs is off (it
// needs CAP_SYS_ADMIN then), drops to the configured user, groups and
// capabilities, sets no_new_privs and the umask. What follows runs as that
// process, under that filter.
base::Status become_process(const ProcessPlan& p);
// Loads seccomp when no_new_privs is on (as late as can be, so a profile
// need allow the fewest syscalls) and executes `path`. Returns only on failure.
base::Status exec_process(const ProcessPlan& p, const std::string& path);
// become_process, then exec_process.
base::Status apply_and_exec(const ProcessPlan& p, const std::string& path);

}  // namespace oci
