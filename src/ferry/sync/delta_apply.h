// DeltaApplier — the receiver's half of rsync's delta algorithm: rebuilds the
// new file from the ops a DeltaMatcher emitted, in order, by copying blocks of
// the old file and writing literal bytes. The new file is written from
// offset 0 with positioned writes (the fd's offset is not used); the caller
// truncates it to written() and syncs it.
//
// The ops come from the peer, so they are hostile input: a copy naming a
// block at or beyond the old file's block count, a count that overflows or is
// zero, or any op that would take the new file past `max_size` fails with an
// error saying so, and nothing of that op is written. An old file that is
// shorter than `old_size` when read is an error too.
// Copies use copy_file_range (reflinks or in-kernel copies where the
// filesystem can), falling back to pread/pwrite where it is not supported.
// old_fd and new_fd are not owned, must be different files, and must outlive
// the applier. Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"

namespace ferry::sync {

class DeltaApplier {
 public:
  DeltaApplier(int old_fd, uint64_t old_size, uint32_t block_size, int new_fd, uint64_t max_size);

  // Appends old blocks [block, block + blocks) to the new file.
  base::Status copy(uint64_t block, uint32_t blocks);
  // Appends `bytes` to the new file.
  base::Status literal(std::span<const uint8_t> bytes);
  // Bytes of the new file written so far.
  uint64_t written() const { return written_; }
  uint64_t block_count() const { return block_count_; }

 private:
  base::Status copy_bytes(uint64_t offset, uint64_t len);
  base::Status copy_by_reading(uint64_t offset, uint64_t len);

  int old_fd_;
  uint64_t old_size_;
  uint32_t block_size_;  // 0 when the length given was not acceptable
  uint64_t block_count_;
  int new_fd_;
  uint64_t max_size_;
  uint64_t written_ = 0;
  bool use_copy_file_range_ = true;
  std::vector<uint8_t> buf_;  // for the pread/pwrite fallback
};

}  // namespace ferry::sync
