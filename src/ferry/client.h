// Client: `ferry cp`. Copies local sources to a server (upload) or a
// server's sources to a local target (download), through one connection.
// A connection lost mid-transfer is retried (resuming from the part files
// already written) up to CopyOptions::reconnects times.
// Thread-safety: one copy() at a time per thread; no shared state.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"
#include "ferry/report.h"

namespace ferry {

struct CopyOptions {
  std::string token;
  uint16_t port = 7077;
  bool recursive = false;
  bool resume = false;  // skip files already whole at the receiver
  bool fsync = false;
  bool progress = true;
  int reconnects = 2;
  std::chrono::milliseconds timeout{120000};
};

base::Result<TransferReport> copy(const std::vector<std::string>& sources,
                                  const std::string& target, const CopyOptions& options);

}  // namespace ferry
