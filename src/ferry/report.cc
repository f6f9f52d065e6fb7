#include "ferry/report.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "base/units.h"

namespace ferry {

std::string TransferReport::human() const {
  double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  std::string s =
      fmt::format("{} {} files, {} in {} ({})", direction, files, base::units::bytes(bytes),
                  base::units::duration(seconds), base::units::rate(rate));
  if (files_skipped > 0)
    s += fmt::format(", {} already present ({})", files_skipped, base::units::bytes(bytes_skipped));
  if (retries > 0) s += fmt::format(", {} chunks re-sent after checksum mismatch", retries);
  if (compressed_raw > 0) {
    s += fmt::format(", {} compressed to {}", base::units::bytes(compressed_raw),
                     base::units::bytes(compressed_wire));
    if (compression == "auto") s += " (automatically, while the network was the limit)";
  } else if (compression == "auto") {
    s += ", not compressed (automatic: the network was never the limit, or data did not shrink)";
  }
  if (!errors.empty()) s += fmt::format(", {} errors", errors.size());
  if (!protection.empty()) s += fmt::format(", {}", protection);
  if (diagnosis.is_object() && diagnosis.contains("bottleneck"))
    s += fmt::format("\nlimit: {} — {}\nadvice: {}", diagnosis["bottleneck"].get<std::string>(),
                     diagnosis["evidence"].get<std::string>(),
                     diagnosis["advice"].get<std::string>());
  return s;
}

std::string TransferReport::json() const {
  nlohmann::json j;
  j["direction"] = direction;
  j["protection"] = protection;
  j["streams"] = streams;
  j["ok"] = ok();
  j["files"] = files;
  j["files_skipped"] = files_skipped;
  j["bytes"] = bytes;
  j["bytes_skipped"] = bytes_skipped;
  j["retried_chunks"] = retries;
  j["seconds"] = seconds;
  j["bytes_per_second"] = seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
  j["errors"] = errors;
  if (!compression.empty())
    j["compression"] = {
        {"mode", compression}, {"raw_bytes", compressed_raw}, {"wire_bytes", compressed_wire}};
  if (diagnosis.is_object())
    for (auto& [k, v] : diagnosis.items()) j[k] = v;
  // Names may be any bytes; replace what is not UTF-8 rather than fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ferry
