// berth's container operations, over the records in container_record.h and
// the runtime in src/oci: run (create the overlay root, the bundle and the
// record, then hand the container to its monitor), stop, remove, logs.
// A record whose monitor is gone (a reboot, a kill -9) is read as exited.
// Thread-safety: safe across processes (a lock per store of containers).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container_record.h"
#include "berth/container_spec.h"

namespace berth {

struct Paths {
  std::string root;      // --root
  std::string run_root;  // --run-root
};

// Creates and starts the container. Attached (no --detach): waits and returns
// the container's exit status. Detached: returns 0 once it runs; `id` is set.
base::Result<int> run_container(const Paths& p, const RunOptions& o, std::string* id);
base::Status stop_container(const Paths& p, const std::string& id_or_name, int timeout_seconds);
base::Status remove_container(const Paths& p, const std::string& id_or_name, bool force);
// Output lines of the log: (stream, text) with the newline kept.
base::Result<std::vector<std::pair<std::string, std::string>>> read_logs(
    const Paths& p, const std::string& id_or_name);
// Records with monitors that no longer exist are marked exited first.
std::vector<ContainerRecord> containers(const Paths& p);

}  // namespace berth
