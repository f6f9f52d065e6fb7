// `berth update`: new limits and a new restart policy for a container, as
// docker's update gives them. Each takes effect at once on a running or
// paused container (its cgroup, through src/oci) and stays for every later
// start: the bundle's config.json, the record's restart policy and docker's
// HostConfig (inspect) all change, under the container's lock, and only
// after the running cgroup took the new values (a limit the kernel refuses,
// such as memory below what the container uses, changes nothing).
// Thread-safety: serialised with every other change by the container's lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

// What to change; what is unset stays as it is (docker's 0 means unset too).
struct ContainerUpdate {
  std::optional<int64_t> memory;      // bytes, at least 6 MiB
  std::optional<double> cpus;         // 0.01 to the host's CPUs
  std::optional<int64_t> cpu_shares;  // 2 to 262144
  std::string cpuset_cpus;            // "0-1,3": CPUs this host has
  std::string cpuset_mems;            // memory nodes
  std::optional<int64_t> pids_limit;  // a positive count, or -1: no limit
  std::string restart;                // no | always | on-failure[:N]

  bool empty() const {
    return !memory && !cpus && !cpu_shares && cpuset_cpus.empty() && cpuset_mems.empty() &&
           !pids_limit && restart.empty();
  }
  // The values checked as docker checks them, before any container is touched.
  base::Status check() const;
};

// Applies `u` to the container. A restart policy cannot be given to a
// --rm container (docker's refusal).
base::Status update_container(const Paths& p, const std::string& id_or_name,
                              const ContainerUpdate& u);

}  // namespace berth
