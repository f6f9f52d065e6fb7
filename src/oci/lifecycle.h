// The runtime's operations on containers, as a library: the berth-oci
// commands are thin wrappers over these, and the berth engine calls them
// directly. `root` is the state directory (--root).
// Each returns an Error whose message is the one line a user should read.
#pragma once

#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/resources.h"
#include "oci/state.h"

namespace oci {

struct CreateOptions {
  std::string root;
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  int preserve_fds = 0;
  // Descriptors the init gets as its 0, 1 and 2 (any numbers); -1: ours, inherited.
  std::array<int, 3> stdio = {-1, -1, -1};
};

// create: the container's init waits for start. Nothing is left on failure.
base::Result<ContainerRecord> create_container(const CreateOptions& o);
// start: lets the init run the program, then runs poststart hooks.
base::Status start_container(const std::string& root, const std::string& id);
// run: create + start, waits and returns the program's exit status (128+n for
// signal n), forwarding signals to it; deletes the container afterwards.
// With `detach`, returns 0 once started.
base::Result<int> run_container(const CreateOptions& o, bool detach);
base::Status kill_container(const std::string& root, const std::string& id, int signal, bool all);
base::Status delete_container(const std::string& root, const std::string& id, bool force);
base::Status pause_container(const std::string& root, const std::string& id, bool pause);
base::Status update_container(const std::string& root, const std::string& id, const Resources& r);
base::Result<std::vector<pid_t>> container_pids(const std::string& root, const std::string& id);
// runc's stats event for `events --stats`.
base::Result<nlohmann::json> container_stats(const std::string& root, const std::string& id);
base::Result<nlohmann::json> container_state(const std::string& root, const std::string& id);

}  // namespace oci
