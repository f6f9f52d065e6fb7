// docker's health checks. The test (an image's HEALTHCHECK, or --health-*
// at run, which win; --no-healthcheck for none) is kept in the record's
// Config.Healthcheck in docker's shape ({"Test": ["CMD-SHELL", "..."] or
// ["CMD", ...], "Interval", "Timeout", "StartPeriod" in nanoseconds,
// "Retries"}). While the container runs, its monitor keeps a checker
// process: after each interval it runs the test in the container as
// `exec` does, for at most Timeout, and writes <dir>/health.json
// atomically: {"Status": "starting" | "healthy" | "unhealthy",
// "FailingStreak", "Log": the last 5 {Start, End, ExitCode, Output (at most
// 4 KiB)}}. A success makes it healthy; Retries failures in a row (not
// counted during StartPeriod) unhealthy; a test that outlives Timeout is a
// failure (ExitCode -1). Defaults as docker's: 30 s, 30 s, 0 s, 3.
// Thread-safety: the checker owns its process; readers read a whole file.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/container/container_record.h"
#include "berth/container/container_spec.h"

namespace berth {

// Config.Healthcheck from the image config and the run flags; null when
// the container has none (none given, or --no-healthcheck, or NONE).
base::Result<nlohmann::json> health_config(const RunOptions& o, const nlohmann::json& image_config);
// Whether `healthcheck` (Config.Healthcheck) asks for checks.
bool has_health_checks(const nlohmann::json& healthcheck);
// The checker's main: checks container `id` (directory `dir`) until killed.
int run_health_checks(const Paths& p, const std::string& id, const std::string& dir,
                      const nlohmann::json& healthcheck);
// State.Health as inspect shows it, from <dir>/health.json; null when none.
nlohmann::json health_state(const std::string& dir);

}  // namespace berth
