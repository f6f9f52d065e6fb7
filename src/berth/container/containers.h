// berth's container operations, over the records in container_record.h and
// the runtime in src/oci: run (create the overlay root, the bundle and the
// record, then hand the container to its monitor), stop, remove, logs.
// A record whose monitor is gone (a reboot, a kill -9) is read as exited.
// Thread-safety: safe across processes (a lock per store of containers).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container/container_record.h"
#include "berth/container/container_spec.h"

namespace berth {

// How an attached container ended: its status (128+n for signal n), and
// whether the kernel's OOM killer ended it (its memory limit was reached).
struct ContainerExit {
  int status = 0;
  bool oom_killed = false;
};

// Makes the container (record, files, bundle; state "created"); returns its id.
base::Result<std::string> create_container(const Paths& p, const RunOptions& o);
// Starts a created or exited container: mounts its root and hands it to a new
// monitor. Attached: waits and returns how it ended; else returns {0} once it runs.
base::Result<ContainerExit> start_container(const Paths& p, const std::string& id_or_name,
                                            bool attach);
// Marks a container as stopped on purpose: its monitor will not restart it.
base::Status request_stop(const Paths& p, const std::string& id);
// Removes every container that is not running; returns their ids.
base::Result<std::vector<std::string>> prune_containers(const Paths& p);
// Creates and starts the container. Attached (no --detach): waits and returns
// the container's exit status. Detached: returns 0 once it runs; `id` is set.
base::Result<ContainerExit> run_container(const Paths& p, const RunOptions& o, std::string* id);
// Sends the container's stop signal (--stop-signal, SIGTERM), then SIGKILL
// after `timeout` seconds (none given: its --stop-timeout, 10; -1: never).
base::Status stop_container(const Paths& p, const std::string& id_or_name,
                            std::optional<int> timeout = std::nullopt);
// With `volumes` (rm -v), its anonymous volumes go too.
base::Status remove_container(const Paths& p, const std::string& id_or_name, bool force,
                              bool volumes = false);
// The container as `docker inspect` shows it (docker_view.h).
base::Result<nlohmann::json> inspect_container(const Paths& p, const std::string& id_or_name);
// Blocks until the container is not running (its monitor is gone: with a
// restart policy, until it stops for good); returns its exit status.
base::Result<int> wait_container(const Paths& p, const std::string& id_or_name);
// pause/unpause: freezes or thaws a running container's processes.
base::Status pause_container(const Paths& p, const std::string& id_or_name, bool pause);
// Whether a running container is frozen now (the runtime's state says so).
bool is_paused(const Paths& p, const ContainerRecord& rec);
// Gives a container another name: one no other container has, under the
// lock that create takes to check names.
base::Status rename_container(const Paths& p, const std::string& id_or_name,
                              const std::string& new_name);
// Calls `fn` with the path of the container's root filesystem, mounted:
// a running container's own mount, or for one that is not running, a mount
// made for the call. The container's lock is held throughout: a start, a
// stop's bookkeeping and an rm wait for `fn`.
// What the container mounts inside (volumes, binds, /proc) is not there.
base::Status with_container_root(const Paths& p, const std::string& id_or_name,
                                 const std::function<base::Status(const std::string&)>& fn);
// Records with monitors that no longer exist are marked exited first.
std::vector<ContainerRecord> containers(const Paths& p);

}  // namespace berth
