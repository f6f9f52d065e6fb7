// What a container holds on the host, each with one owner at a time:
//   - its overlay root, mounted at <dir>/bundle/rootfs        (RootMount)
//   - its network attachment: veth, address, namespace file,
//     nftables rules, DNS entry (container_network.h)          (NetworkLease)
//   - its runtime container: berth-oci state and cgroup        (the monitor)
// During a start, the root and the network are guards that undo themselves
// unless the start succeeds and hands them to the monitor (release()).
// From then on release_host_resources() takes back whatever is left: the
// monitor calls it when the container is gone, `rm` calls it, and so does
// any command that finds a record whose monitor died (a kill -9, a reboot).
// Each step is a fault-injection seam (base/fault_injection.h), named below.
// Thread-safety: callers hold the container's lock (container_handle.h).
#pragma once

#include <string>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

// The overlay root of a container; unmounted when the guard goes unless released.
class RootMount {
 public:
  // Mounts <dir>/bundle/rootfs from <dir>/lowerdirs, upper/ and work/ (a
  // stale mount left by a dead monitor is replaced), with redirect_dir,
  // metacopy and index off, so upper/ holds every change whole. Seam:
  // "start.mount".
  static base::Result<RootMount> mount(const std::string& dir, const std::string& id);
  RootMount(RootMount&& o) noexcept : rootfs_(std::move(o.rootfs_)) { o.rootfs_.clear(); }
  RootMount& operator=(RootMount&&) = delete;
  ~RootMount();
  // Leaves it mounted: the monitor owns it now.
  void release() { rootfs_.clear(); }

 private:
  explicit RootMount(std::string rootfs) : rootfs_(std::move(rootfs)) {}
  std::string rootfs_;
};

// A container's network attachment; detached when the guard goes unless released.
class NetworkLease {
 public:
  // Wires the record's network (bridge: attach; container:NAME: join) and
  // sets the record's address. Seam: "start.network". Mode none or host: nothing.
  static base::Result<NetworkLease> take(const Paths& p, ContainerRecord& rec,
                                         const std::string& dir);
  NetworkLease(NetworkLease&& o) noexcept;
  NetworkLease& operator=(NetworkLease&&) = delete;
  ~NetworkLease();
  void release() { id_.clear(); }

 private:
  NetworkLease(Paths p, std::string id) : paths_(std::move(p)), id_(std::move(id)) {}
  Paths paths_;
  std::string id_;  // empty: nothing to detach
};

// Takes back everything the container `id` (directory `dir`) may still
// hold, whoever left it: the runtime container with its cgroup (also a
// cgroup a killed runtime made but never recorded; seam "release.runtime"),
// the root mount ("release.mount") and the network ("release.network").
// Idempotent; every step is tried, the first failure is returned.
base::Status release_host_resources(const Paths& p, const std::string& id, const std::string& dir);
// Its three steps, for the monitor, which reports the exit between them.
base::Status release_runtime(const Paths& p, const std::string& id);
base::Status release_root(const std::string& dir);
base::Status release_network(const Paths& p, const std::string& id);

// The cgroupsPath berth gives container `id`.
std::string cgroups_path_of(const std::string& id);

}  // namespace berth
