// Fault injection: the seam through which tests make a named step fail,
// the way its system call would, to prove that what came before it is
// undone. A step is a short name ("start.mount", "monitor.create"); it
// fails when the environment variable SHIPYARD_FAULTS lists it
// (comma-separated). Nothing else ever sets that variable: in a normal run
// every check is one lookup in an empty set. Each guard-owning step of
// berth's container lifecycle calls inject() first; docs/BERTH.md lists them.
// Thread-safety: reads the environment once, on first use.
#pragma once

#include <string_view>

#include "base/error.h"

namespace base {

// Fails with "STEP: injected fault (SHIPYARD_FAULTS)" when `step` is listed.
Status inject(std::string_view step);

}  // namespace base
