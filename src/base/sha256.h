// SHA-256 of a stream, incrementally (OpenSSL), written as OCI writes
// digests: "sha256:<64 lowercase hex>". Its own CMake target (base_sha256),
// so only what hashes links libcrypto.
// Thread-safety: a Sha256 is used by one thread at a time.
#pragma once

#include <memory>
#include <string>

namespace base {

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

}  // namespace base
