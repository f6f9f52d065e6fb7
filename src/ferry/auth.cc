#include "ferry/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/sys.h"

namespace ferry::auth {
namespace {
Mac mac(std::string_view token, std::string_view label, const Nonce& first, const Nonce& second) {
  std::string msg(label);
  msg.append(reinterpret_cast<const char*>(first.data()), first.size());
  msg.append(reinterpret_cast<const char*>(second.data()), second.size());
  Mac out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(), &len);
  return out;
}
}  // namespace

base::Result<Nonce> make_nonce() {
  Nonce n{};
  TRY_STATUS(base::sys::getrandom(n));
  return n;
}

base::Result<std::string> make_token() {
  return base::sys::random_hex(16);
}

Mac client_mac(std::string_view token, const Nonce& server_nonce, const Nonce& client_nonce) {
  return mac(token, "ferry-v1 client", server_nonce, client_nonce);
}

Mac server_mac(std::string_view token, const Nonce& client_nonce, const Nonce& server_nonce) {
  return mac(token, "ferry-v1 server", client_nonce, server_nonce);
}

bool equal(const Mac& a, const Mac& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ferry::auth
