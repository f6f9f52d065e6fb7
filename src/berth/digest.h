// Content digests as OCI writes them: "sha256:<64 lowercase hex>".
// Sha256 hashes a stream incrementally (OpenSSL EVP).
// Thread-safety: a Sha256 is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace berth {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  // "sha256:<hex>"; the hasher is finished afterwards.
  std::string digest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Checks the form "sha256:<64 hex>"; the error names `what`.
base::Status check_digest(std::string_view digest, std::string_view what);
// The hex part of a valid digest.
std::string digest_hex(std::string_view digest);

}  // namespace berth
