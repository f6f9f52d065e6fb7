// The container's root filesystem, built inside its new mount namespace:
// the bundle's rootfs bind-mounted onto itself, every configured mount placed
// beneath it without following symlinks out of it, /dev populated, then
// pivot_root (or MS_MOVE + chroot with --no-pivot), masked and read-only paths,
// and the root made read-only last if asked.
// Runs in the container's init process before it drops privileges.
// Thread-safety: changes process-wide state (mounts, cwd, root).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/mount_plan.h"

namespace oci {

struct DeviceNode {
  std::string path;  // absolute, inside the container
  int64_t major = 0, minor = 0;
  mode_t mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
  char type = 'c';  // c, b, u (unbuffered char), p (fifo)
};

// linux.devices, validated.
base::Result<std::vector<DeviceNode>> parse_devices(const nlohmann::json& j);

struct RootfsPlan {
  std::string rootfs;  // absolute host path
  bool readonly = false;
  std::string propagation;  // linux.rootfsPropagation
  std::vector<MountPlan> mounts;
  std::vector<DeviceNode> devices;
  std::vector<std::string> masked_paths, readonly_paths;
  // For "cgroup" mounts on v1/hybrid hosts: (controllers, host dir) of the container's cgroup.
  std::vector<std::pair<std::string, std::string>> cgroup_dirs;
  // Written after pivot_root, before /proc/sys is made read-only: "/proc/sys/..." -> value.
  std::map<std::string, std::string> sysctl;
  bool no_pivot = false;
  bool in_user_namespace = false;  // mknod is not allowed there: bind host devices instead
};

// Everything up to (not including) pivot_root.
base::Status prepare_rootfs(const RootfsPlan& plan);
// pivot_root, sysctls, masked and read-only paths; afterwards cwd is the new "/".
base::Status enter_rootfs(const RootfsPlan& plan);
// Binds the terminal's slave device onto /dev/console (after enter_rootfs).
base::Status bind_console(const std::string& slave_path);

}  // namespace oci
