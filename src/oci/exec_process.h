// exec: runs another process in a running container. It joins every namespace
// the container's init has (user first), its cgroup, and gets the same kind of
// limits: capabilities, rlimits, no_new_privs and the container's seccomp filter.
// Thread-safety: forks (clone3 into the cgroup where it can, which runs no
// atfork handlers); call from a single-threaded process.
#pragma once

#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include "base/error.h"

namespace oci {

struct ExecOptions {
  std::string root;
  std::string id;
  std::string process_file;       // a runtime-spec "process" JSON; "" = built from the fields below
  std::vector<std::string> args;  // used when there is no process file
  std::vector<std::string> env;   // NAME=VALUE, added to (and overriding) the container's
  std::string cwd;
  std::string user;  // "uid[:gid]"
  std::vector<std::string> additional_gids;
  std::vector<std::string> add_caps;  // CAP_* added to every set but ambient
  bool tty = false;
  uint16_t console_height = 0, console_width = 0;  // the pty's initial size (0 = unset)
  bool no_new_privs = false;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  // Descriptors the process gets as its 0, 1 and 2 (any numbers); -1: ours, inherited.
  std::array<int, 3> stdio = {-1, -1, -1};
};

// Starts the process (a child of ours) and writes the pid file; returns its pid.
base::Result<pid_t> start_exec_process(const ExecOptions& o);
// Returns the process's exit status (128+n for signal n), or 0 once started with `detach`.
base::Result<int> exec_in_container(const ExecOptions& o);

}  // namespace oci
