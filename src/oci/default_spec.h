// The config.json that `berth-oci spec` writes: runc's defaults (a shell in
// ./rootfs, read-only root, new pid/net/ipc/uts/mount/cgroup namespaces, the
// usual /proc /dev /sys mounts, masked and read-only paths, a deny-all device
// list). The rootless variant adds a user namespace mapping the caller's ids,
// drops the network namespace's sysfs and the cgroup resources.
// Thread-safety: pure function.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace oci {

nlohmann::json default_spec(bool rootless, uid_t uid, gid_t gid);

}  // namespace oci
