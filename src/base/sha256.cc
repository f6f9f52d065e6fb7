#include "base/sha256.h"

// OpenSSL's low-level SHA256_* calls: the same assembly as EVP's, without
// the provider machinery whose first use in a process reads openssl.cnf
// and fills name tables (about 1 ms, on every berth command that reads an
// image). Deprecated in OpenSSL 3.0 in favour of EVP, and still provided.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <fmt/format.h>

namespace base {

struct Sha256::Ctx {
  SHA256_CTX state{};
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  SHA256_Init(&ctx_->state);
}
Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t len) {
  SHA256_Update(&ctx_->state, data, len);
}

std::string Sha256::digest() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &ctx_->state);
  std::string hex = "sha256:";
  for (unsigned char b : out) hex += fmt::format("{:02x}", b);
  return hex;
}

}  // namespace base
