// linux.seccomp compiled with libseccomp into a classic BPF program before the
// container process starts, so a bad profile fails `create` with the field named
// and the container side only has to load bytes. All actions except
// SCMP_ACT_NOTIFY (which needs a listener) are supported, with argument filters,
// architectures and flags.
// Thread-safety: pure function; plain values.
#pragma once

#include <linux/filter.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace oci {

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_*
};

// `j` is linux.seccomp (null: no filter).
base::Result<std::optional<SeccompProgram>> compile_seccomp(const nlohmann::json& j);
// Installs the program on the calling thread (needs no_new_privs or CAP_SYS_ADMIN).
base::Status load_seccomp(const SeccompProgram& p);

}  // namespace oci
