// exec: another command in a running container, attached to the caller as
// docker exec is. With -t it runs on a pty the runtime makes, relayed to our
// terminal; without, on pipes of the engine's own (container_stdio.h). In
// neither case does the command get our terminal or our files.
// Thread-safety: installs signal forwarding; one exec per process.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container/containers.h"

namespace berth {

struct ExecRequest {
  std::vector<std::string> args;  // the command
  std::vector<std::string> env;   // NAME=VALUE, over the container's
  std::string cwd;                // "" = the container's
  std::string user;               // UID[:GID]; "" = the container's
  bool interactive = false;       // our stdin goes to it (else it reads nothing)
  bool tty = false;               // a pty of its own (with -i: ours raw, resized)
};

// Runs `r` in the running container `id_or_name`; returns its exit status.
base::Result<int> exec_in_container(const Paths& p, const std::string& id_or_name,
                                    const ExecRequest& r);

}  // namespace berth
