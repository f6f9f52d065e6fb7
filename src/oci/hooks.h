// Runtime-spec hooks: each runs with the container's state JSON on its stdin,
// its own args and env, and a timeout after which it is killed. A failing hook
// fails the operation, naming the hook ("hooks.prestart[1] /bin/x: exit 3").
// Thread-safety: forks; call from a single-threaded process.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/config.h"

namespace oci {

// `stage` is the config key ("prestart", "createRuntime", ...).
base::Status run_hooks(const std::vector<Hook>& hooks, const std::string& stage,
                       const std::string& state_json);

}  // namespace oci
