// The cgroup v2 device controller: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE)
// built from device rules and attached to a cgroup directory. The program
// applies the last rule that matches a request, like the v1 devices lists, and
// denies what no rule allows.
// Thread-safety: pure; the attachment is kernel state owned by the cgroup.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "base/error.h"
#include "oci/resources.h"

namespace oci {

// The program's instructions (exposed for tests).
std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules);
// Loads the program and attaches it to the cgroup open at `cgroup_fd`.
base::Status attach_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules);

}  // namespace oci
