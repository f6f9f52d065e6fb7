// Token authentication by challenge and response, so the token never
// crosses the wire. Both sides prove they hold the token:
//   client MAC = HMAC-SHA256(token, "ferry-v1 client" || server_nonce || client_nonce)
//   server MAC = HMAC-SHA256(token, "ferry-v1 server" || client_nonce || server_nonce)
// Comparisons are constant-time. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "ferry/messages.h"

namespace ferry::auth {

base::Result<Nonce> make_nonce();
// A fresh random token, 32 lowercase hex characters (128 bits).
base::Result<std::string> make_token();
Mac client_mac(std::string_view token, const Nonce& server_nonce, const Nonce& client_nonce);
Mac server_mac(std::string_view token, const Nonce& client_nonce, const Nonce& server_nonce);
bool equal(const Mac& a, const Mac& b);

}  // namespace ferry::auth
