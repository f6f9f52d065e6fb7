// Times as the records of berth, berth-oci and docker write them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace base {

// The current time as RFC 3339 with nanoseconds, UTC: "2026-12-06T09:24:51.123456789Z".
std::string now_rfc3339();

// Seconds since the epoch of an RFC 3339 UTC time as now_rfc3339() writes
// it (fraction and "Z" optional); nullopt for anything else.
std::optional<int64_t> parse_rfc3339(const std::string& text);

// A Go duration ("10m", "1h30m", "2.5s", "500ms") in seconds; nullopt for
// anything else (a bare number too: Go wants a unit).
std::optional<double> parse_go_duration(const std::string& text);

// A time as docker's --since and --until take it, in seconds since the
// epoch: RFC 3339 ("2026-12-07T10:00:00Z", fraction optional; or a date
// alone), a Unix time ("1765101600", fraction optional), or a Go duration
// before `now` ("10m", "1h30m", "2.5s"); nullopt for anything else.
std::optional<double> parse_docker_since(const std::string& text, double now);

// docker's words for a span (go-units HumanDuration): "Less than a second",
// "1 second", "5 seconds", "About a minute", "3 minutes", "About an hour",
// "5 hours", "3 days", "2 weeks", "4 months", "2 years".
std::string human_duration(int64_t seconds);

// "2026-12-06 09:24:51 +0000 UTC", docker's CreatedAt, from an RFC 3339 time
// ("" when it cannot be read).
std::string docker_time(const std::string& rfc3339);

}  // namespace base
