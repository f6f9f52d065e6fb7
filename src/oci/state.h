// A container's record under the runtime's state directory (--root):
//   <root>/<id>/state.json   what `state` reports, plus the cgroup and the
//                            init process's start time (to detect pid reuse)
//   <root>/<id>/config.json  the config the container was created with (for exec)
//   <root>/<id>/exec.fifo    present from create until start
// Thread-safety: file operations; concurrent runtimes see whole files (rename).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/process_identity.h"
#include "base/timestamp.h"

namespace oci {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* status_name(Status s);

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds, UTC
  std::string owner;
  std::string oci_version;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22
  std::map<std::string, std::string> annotations;
  nlohmann::json cgroup;  // Cgroup::to_json()
  // Whether config.json must be read again to run these hooks (start and
  // delete need nothing else from it). A record without the field says yes.
  bool has_poststart_hooks = true;
  bool has_poststop_hooks = false;
  // Without a mount namespace of its own the container's root is a bind mount in
  // a namespace it shares: "/proc/self/ns/mnt" of the runtime (inherited) or the
  // path it joined. `delete` detaches that mount there. Empty: its own namespace.
  std::string shared_mount_ns;
};

// Rejects ids that are empty, too long or not made of [A-Za-z0-9_.+-].
base::Status check_id(const std::string& id);
std::string container_dir(const std::string& root, const std::string& id);
std::string fifo_path(const std::string& root, const std::string& id);

base::Status save_record(const std::string& root, const ContainerRecord& r);
// Fails with "container <id> does not exist" when there is no record.
base::Result<ContainerRecord> load_record(const std::string& root, const std::string& id);
// Every container id under `root`.
std::vector<std::string> list_ids(const std::string& root);

// Whether the recorded init process is still the same live process.
bool init_alive(const ContainerRecord& r);
using base::process_start_time;
// created | running | paused | stopped, from the process, the fifo and the freezer.
Status current_status(const std::string& root, const ContainerRecord& r);

// runc's `state` JSON.
nlohmann::json state_json(const ContainerRecord& r, Status s);
using base::now_rfc3339;

}  // namespace oci
