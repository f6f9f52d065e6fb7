// A container as berth keeps it, under <root>/containers/<id>/:
//   container.json  this record (written atomically; the monitor updates state)
//   bundle/         the OCI bundle: config.json, and rootfs/ (the overlay mount point)
//   upper/ work/    the overlayfs writable layer
//   hosts hostname resolv.conf   files bind-mounted into the container
//   log             the container's output as JSON lines ({"stream","time","log"})
//   lock            flock'd by whoever changes the container (container_handle.h)
//   monitor.lock    held by its monitor while that runs (container_handle.h)
// The network attachment (issue 6) slots in as `network` in the record.
// Thread-safety: file operations; after creation a record is written only
// through a ContainerHandle (container_handle.h), under the container's lock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

// Where berth keeps its state: the --root and --run-root of a command.
struct Paths {
  std::string root;      // --root
  std::string run_root;  // --run-root
};

struct ContainerRecord {
  std::string id;  // 64 hex
  std::string name;
  std::string image;     // as the user wrote it
  std::string image_id;  // config digest
  std::vector<std::string> command;
  std::string created;
  std::string state = "created";  // created | running | exited
  int exit_code = 0;
  bool oom_killed = false;  // its last life was ended by the kernel's OOM killer
  int pid = 0;              // the container's init (host pid) while running
  int monitor_pid = 0;      // its monitor
  std::string finished;     // when it exited
  bool auto_remove = false;
  bool interactive = false;    // -i: the container reads the monitor's stdin
  bool tty = false;            // -t: the container's stdio is a pty the monitor holds
  std::string restart = "no";  // no | on-failure | always
  int restart_max = 0;         // on-failure:N (0: no limit)
  int restart_count = 0;
  bool stop_requested = false;  // set by stop/kill: the monitor does not restart it
  std::string started;
  std::map<std::string, std::string> labels;  // --label
  std::string stop_signal = "SIGTERM";        // --stop-signal: what stop sends first
  int stop_timeout = 10;                      // --stop-timeout: seconds before SIGKILL
  nlohmann::json network = {{"mode", "none"}};
  // docker's Config and HostConfig for `inspect` (docker_view.h), made at create.
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json host_config = nlohmann::json::object();
  // docker's Mounts: binds, volumes ({"Type":"volume","Name",...}) and their
  // targets; volumes.h reads it to know which volumes are in use.
  nlohmann::json mounts = nlohmann::json::array();
};

std::string containers_dir(const std::string& root);
std::string container_dir(const std::string& root, const std::string& id);
// Reads --restart: "no", "always", "on-failure" or "on-failure:N" (N below
// 100000) into rec.restart and rec.restart_max; anything else is an error
// naming the value.
base::Status parse_restart_policy(const std::string& text, ContainerRecord& rec);
base::Status save_container(const std::string& root, const ContainerRecord& r);
base::Result<ContainerRecord> load_container(const std::string& root, const std::string& id);
std::vector<ContainerRecord> list_containers(const std::string& root);
// A full id, a unique id prefix, or a name -> the record.
base::Result<ContainerRecord> find_container(const std::string& root,
                                             const std::string& id_or_name);

}  // namespace berth
