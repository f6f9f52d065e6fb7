// Names the runtime spec and runc's command line use, mapped to kernel numbers:
// RLIMIT_*, signals, capabilities. Each lookup fails with a message naming
// the unknown value. Thread-safety: pure functions over static tables.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace oci {

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
base::Result<int> rlimit_from_name(std::string_view name);
// "KILL", "SIGKILL" or "9" -> SIGKILL (any case, as runc accepts).
base::Result<int> signal_from_name(std::string_view name);
// "CAP_SYS_ADMIN" -> CAP_SYS_ADMIN, checked against the running kernel's last cap.
base::Result<int> capability_from_name(std::string_view name);
// All capability names the kernel knows ("CAP_CHOWN", ...), for `features`.
std::vector<std::string> all_capability_names();

}  // namespace oci
