// The functions go_template.h's templates call, over JSON values: Go's
// builtins and docker's additions. Internal to go_template.cc.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth::go_template {

// Go's truth: false, 0, "", null, an empty list or map are false.
bool truth(const nlohmann::json& v);

bool is_function(std::string_view name);

// Calls `name` with `args` (a piped value comes last). Errors say what was
// wrong without the action; the caller adds it.
base::Result<nlohmann::json> call_function(std::string_view name,
                                           const std::vector<nlohmann::json>& args);

}  // namespace berth::go_template
