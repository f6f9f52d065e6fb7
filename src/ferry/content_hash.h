// A file's content hash for ferry sync: XXH3-128, canonical (big-endian)
// bytes, as SUM frames and a delta's end carry it. ContentHasher takes data
// in pieces; hash_file() reads a file from offset 0.
// Thread-safety: one thread per ContentHasher; hash_file is reentrant.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/error.h"
#include "ferry/sync_messages.h"

namespace ferry {

class ContentHasher {
 public:
  // Fails only when the hash state cannot be allocated.
  static base::Result<ContentHasher> make();
  void update(const uint8_t* p, size_t n);
  ContentHash digest() const;

 private:
  struct Free {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  explicit ContentHasher(XXH3_state_t* s) : state_(s) {}
  std::unique_ptr<XXH3_state_t, Free> state_;
};

// The hash of `fd`'s first `limit` bytes (fewer if the file ends first).
base::Result<ContentHash> hash_file(int fd, uint64_t limit, const std::string& shown);

}  // namespace ferry
