// TransferReport: the outcome of one transfer, printed for people or as the
// `--json` summary. Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry {

struct TransferReport {
  std::string direction;   // "upload" or "download"
  std::string protection;  // Transport::protection() of the primary stream
  uint32_t streams = 1;    // TCP streams the transfer used (-P, or chosen by RTT)
  uint64_t files = 0;      // entries transferred (files, dirs, links)
  uint64_t files_skipped = 0;
  uint64_t bytes = 0;  // file data bytes moved
  uint64_t bytes_skipped = 0;
  uint64_t retries = 0;
  // A sync's compression: its mode ("on", "off", "auto"; empty for a copy),
  // and the data that travelled compressed, before and on the wire.
  std::string compression;
  uint64_t compressed_raw = 0;
  uint64_t compressed_wire = 0;
  double seconds = 0;
  std::vector<std::string> errors;  // one line each
  nlohmann::json diagnosis;         // Monitor::summary(): bottleneck, evidence, advice, shares

  bool ok() const { return errors.empty(); }
  std::string human() const;
  std::string json() const;
};

}  // namespace ferry
