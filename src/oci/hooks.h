// Runtime-spec hooks: each runs with the container's state JSON on its stdin,
// its own args and env, and a timeout after which it is killed. A failing
// prestart, createRuntime, createContainer or startContainer hook fails the
// operation, naming the hook ("hooks.prestart[1] /bin/x: exit 3"); a failing
// poststart or poststop hook is only a warning, and the rest still run (the
// runtime spec's rule for those two).
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
// Runs every hook; each failure is logged as a warning on stderr.
void run_hooks_warning_only(const std::vector<Hook>& hooks, const std::string& stage,
                            const std::string& state_json);

}  // namespace oci
