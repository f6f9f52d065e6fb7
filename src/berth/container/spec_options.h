// Docker's run flags that shape a container's OCI spec beyond the image's
// config: --cap-add/--cap-drop, --privileged, --device, --tmpfs, --shm-size,
// --sysctl, --ulimit, --group-add, --ipc/--pid/--uts/--cgroupns host,
// --domainname, --oom-score-adj, --cpu-shares, --cpuset-cpus/--cpuset-mems,
// --init (berth-init bound at /sbin/berth-init, the program its argument).
// Each is checked as docker checks it (an unknown capability, a sysctl that
// is not namespaced, a ulimit that is not NAME=SOFT[:HARD]), and a bad one is
// an error naming the flag and the value.
// Thread-safety: pure, but for stat() of --device paths and /dev (privileged).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/container/container_spec.h"

namespace berth {

// The capability set: docker's defaults with --cap-drop, then --cap-add
// (ALL in either as docker reads it), or every capability the kernel has
// when privileged. Names are "CAP_X" or "x", any case.
base::Result<std::vector<std::string>> capabilities_of(const RunOptions& o,
                                                       const std::vector<std::string>& defaults);

// The CPUs this host has online (sysconf), numbered 0 to count-1.
long online_cpus();
// --cpus: a number from 0.01 to online_cpus().
base::Result<double> parse_cpus(const std::string& text);
// --memory: at least 6 MiB, as docker requires.
base::Status check_memory_limit(int64_t bytes);
// --memory-swap: berth limits memory alone, which is docker's -1 (swap
// without a limit of its own); any other value is refused.
base::Status check_memory_swap(const std::string& text);
// A cpuset list such as "0-3,5" for `flag`; with `count` > 0, every CPU in it
// must be below `count`.
base::Status check_cpu_list(const std::string& value, const char* flag, long count);

// Applies the flags above to `spec` (made by make_spec: process, mounts,
// linux); `files` gives the image's /etc/group for --group-add names.
base::Status apply_spec_options(const RunOptions& o, const SpecPaths& files, nlohmann::json& spec);

}  // namespace berth
