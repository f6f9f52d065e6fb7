// Runs a build's stages in dependency order, independent ones side by side:
// a stage starts once every stage it depends on (FROM <stage>, COPY
// --from=<stage>) has been built, on a thread of its own, at most `width` at
// once. After the first failure no stage starts, `on_failure` is called once
// (so running stages stop at their next step), and that first error is
// returned when the running ones have ended. An exception a task throws is
// its error ("internal error: ..."), never the end of the process.
// Thread-safety: `task` runs on several threads at once; it must guard what
// it shares.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <set>

#include "base/error.h"

namespace berth::build {

// `deps`: every stage to build, with the stages it needs (all among the keys).
base::Status run_stages(const std::map<size_t, std::set<size_t>>& deps, size_t width,
                        const std::function<base::Status(size_t)>& task,
                        const std::function<void()>& on_failure);

}  // namespace berth::build
