// Times as the records of berth, berth-oci and docker write them.
// Thread-safety: pure functions.
#pragma once

#include <string>

namespace base {

// The current time as RFC 3339 with nanoseconds, UTC: "2026-12-06T09:24:51.123456789Z".
std::string now_rfc3339();

}  // namespace base
