#include "berth/digest.h"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace berth {

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_->md, data, len);
}

std::string Sha256::digest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  std::string hex = "sha256:";
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return hex;
}

base::Status check_digest(std::string_view digest, std::string_view what) {
  bool ok = digest.size() == 71 && digest.substr(0, 7) == "sha256:";
  for (size_t i = 7; ok && i < digest.size(); ++i)
    ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
  if (!ok) return base::fail_msg(fmt::format("{}: '{}' is not a sha256 digest", what, digest));
  return {};
}

std::string digest_hex(std::string_view digest) {
  return std::string(digest.substr(7));
}

}  // namespace berth
