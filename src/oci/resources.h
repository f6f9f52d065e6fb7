// linux.resources of the runtime spec, as typed values with path-named
// validation errors. Writing them to a cgroup is cgroup.cc's job.
// Thread-safety: pure function; plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace oci {

// One device cgroup rule. type: 'a' (all), 'c' or 'b'; major/minor -1 = any.
struct DeviceRule {
  bool allow = false;
  char type = 'a';
  int64_t major = -1;
  int64_t minor = -1;
  std::string access = "rwm";
};

struct BlockRate {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct Resources {
  // memory (bytes; -1 = unlimited)
  std::optional<int64_t> memory_limit, memory_reservation, memory_swap;
  std::optional<uint64_t> memory_swappiness;
  std::optional<int64_t> kernel_limit, kernel_tcp_limit;  // v1 only
  bool disable_oom_killer = false;
  // cpu
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<int64_t> cpu_quota, cpu_realtime_runtime;
  std::optional<uint64_t> cpu_realtime_period;
  std::string cpus, mems;
  // pids (<= 0 = unlimited)
  std::optional<int64_t> pids_limit;
  // net_cls / net_prio (v1 only)
  std::optional<uint32_t> net_class_id;
  std::vector<std::pair<std::string, uint32_t>> net_priorities;  // interface -> priority
  // blkio / io
  std::optional<uint16_t> blkio_weight;
  std::vector<BlockRate> read_bps, write_bps, read_iops, write_iops;
  // hugetlb: page size ("2MB") -> limit in bytes
  std::map<std::string, uint64_t> hugepage_limits;
  std::vector<DeviceRule> devices;
  // cgroup v2 files written as given
  std::map<std::string, std::string> unified;

  bool has_memory() const {
    return memory_limit || memory_reservation || memory_swap || memory_swappiness || kernel_limit ||
           kernel_tcp_limit || disable_oom_killer;
  }
  bool has_cpu() const {
    return cpu_shares || cpu_period || cpu_quota || cpu_realtime_runtime || cpu_realtime_period;
  }
  bool has_cpuset() const { return !cpus.empty() || !mems.empty(); }
  bool has_blkio() const {
    return blkio_weight || !read_bps.empty() || !write_bps.empty() || !read_iops.empty() ||
           !write_iops.empty();
  }
};

// `path` is the JSON path of `j` for error messages ("linux.resources").
// A 0 in a field where runc reads 0 as "not given" (memory limit, reservation,
// swap, kernel, kernelTCP; cpu shares, quota, period, realtime; pids limit;
// blockIO weight) is left unset, so engines that send zeros change nothing.
base::Result<Resources> parse_resources(const nlohmann::json& j, const std::string& path);

// The device rules every container gets after its configured ones, as runc
// does: mknod of anything, and the standard character devices and ptys.
std::vector<DeviceRule> default_device_rules();

}  // namespace oci
