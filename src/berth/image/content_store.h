// The image content store under <root>/blobs/sha256/<hex>: every blob is
// stored under its digest, verified while it is written (a mismatch or a
// short stream leaves nothing), and written atomically (temporary file, then
// rename), so readers only ever see whole, verified blobs.
// Thread-safety: concurrent writers of one blob are safe (same bytes, rename).
#pragma once

#include <functional>
#include <string>

#include "base/error.h"

namespace berth {

class ContentStore {
 public:
  explicit ContentStore(std::string root);  // <root>/blobs/sha256
  // The blob's path (it may not exist).
  std::string path(const std::string& digest) const;
  bool has(const std::string& digest) const;
  // Stores the bytes `produce` hands to `sink`; returns the digest. When
  // `expected` is given, a different digest is an error and nothing is kept.
  using Sink = std::function<base::Status(const void*, size_t)>;
  base::Result<std::string> put(const std::function<base::Status(const Sink&)>& produce,
                                const std::string& expected = {});
  base::Result<std::string> put_bytes(const std::string& bytes, const std::string& expected = {});
  base::Result<std::string> read(const std::string& digest) const;

 private:
  std::string dir_;
};

}  // namespace berth
