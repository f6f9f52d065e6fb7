// Counters: what a transfer has done so far, updated by the sending or
// receiving thread and read by the progress display. Relaxed atomics: the
// display needs recent values, not a consistent snapshot.
#pragma once

#include <atomic>
#include <cstdint>

#include "ferry/stage_times.h"

namespace ferry {

struct Counters {
  std::atomic<uint64_t> files_seen{0};     // entries of every kind announced
  std::atomic<uint64_t> files_done{0};     // entries finished (sent or written)
  std::atomic<uint64_t> files_skipped{0};  // already whole at the receiver
  std::atomic<uint64_t> bytes_planned{0};  // sum of file sizes announced
  std::atomic<uint64_t> bytes_moved{0};    // file data bytes sent or written
  std::atomic<uint64_t> bytes_skipped{0};  // file bytes the receiver already had
  std::atomic<uint64_t> retries{0};        // chunks re-sent after a checksum mismatch
  // Data that travelled zstd-compressed (-z, or automatically): its bytes,
  // and what they took on the wire.
  std::atomic<uint64_t> compressed_raw{0};
  std::atomic<uint64_t> compressed_wire{0};
  std::atomic<bool> walk_finished{false};
  StageTimes stages;
};

}  // namespace ferry
