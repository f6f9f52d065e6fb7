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
  // The mount namespace is shared (inherited or joined): the root's propagation
  // is left alone and the container is chroot()ed into its root, since
  // pivot_root would move every process of that namespace.
  bool shared_mount_ns = false;
  bool in_user_namespace = false;  // mknod is not allowed there: bind host devices instead
};

// The root bind-mounted onto itself (after setting "/"'s propagation in a
// namespace of its own): from here on, detaching plan.rootfs undoes every mount.
base::Status bind_rootfs(const RootfsPlan& plan);
// The configured mounts and /dev, beneath the bound root.
base::Status populate_rootfs(const RootfsPlan& plan);
// pivot_root, sysctls, masked and read-only paths; afterwards cwd is the new "/".
base::Status enter_rootfs(const RootfsPlan& plan);
// Detaches the root bind (and every mount beneath it) of a container that
// shared the mount namespace at `ns_path`; a namespace that is gone took its
// mounts with it. Forks to enter another namespace.
base::Status release_shared_rootfs(const std::string& ns_path, const std::string& rootfs);
// Binds the terminal's slave device onto /dev/console (after enter_rootfs).
base::Status bind_console(const std::string& slave_path);

}  // namespace oci
