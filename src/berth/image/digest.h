// Content digests as OCI writes them: "sha256:<64 lowercase hex>", made by
// base::Sha256 (base/sha256.h) and checked here.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/sha256.h"

namespace berth {

using base::Sha256;

// Checks the form "sha256:<64 hex>"; the error names `what`.
base::Status check_digest(std::string_view digest, std::string_view what);
// The hex part of a valid digest.
std::string digest_hex(std::string_view digest);

}  // namespace berth
