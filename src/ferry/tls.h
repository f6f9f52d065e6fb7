// TLS 1.3 under a ferry Channel, keyed by the shared token alone.
//
// The token becomes an external pre-shared key (RFC 8446 section 4.2.11):
//   psk = HKDF-SHA256(salt = "ferry protocol 2", ikm = token,
//                     info = "tls13 external psk", length = 32)
// offered under the identity "ferry/2" with the hash SHA-256. Both sides
// insist on psk_dhe_ke (the PSK together with an X25519 or P-256 exchange):
// each proves it holds the token without sending it, a recorded connection
// stays secret even from a later holder of the token (forward secrecy), and
// there are no certificates. A peer that answers with a certificate instead of
// the PSK, or without a key exchange, is refused. Cipher: AES-128-GCM where the
// CPU has AES instructions, else ChaCha20-Poly1305. No session tickets, no
// early data, no renegotiation (TLS 1.3 has none).
//
// The kernel's TLS offload (the "tls" ULP) is not used: this code encrypts in
// user space on every kernel.
//
// A server sends nothing in answer to a wrong token until kWrongTokenDelay has
// passed (handshake.h), so guessing costs a second a try.
//
// Thread-safety: a Context is shared by many connections on many threads. A
// transport from establish() may be read by one thread while another
// writes, as every Transport (OpenSSL calls are serialized inside).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"
#include "ferry/transport.h"

namespace ferry::tls {

inline constexpr std::string_view kPskIdentity = "ferry/2";
// The first byte of a TLS record that carries a handshake message.
inline constexpr uint8_t kHandshakeRecord = 0x16;

using Psk = std::array<uint8_t, 32>;
Psk psk_from_token(std::string_view token);

enum class Role { kClient, kServer };

// An OpenSSL context configured as above for one role and one token.
class Context {
 public:
  static base::Result<std::shared_ptr<Context>> make(Role role, std::string_view token);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The handshake on a connected socket, as the context's role; the transport
// that carries the rest. `timeout`: the longest wait for the peer at any step.
base::Result<std::unique_ptr<Transport>> establish(const std::shared_ptr<Context>& context,
                                                   base::UniqueFd fd, std::string peer,
                                                   std::chrono::milliseconds timeout);

}  // namespace ferry::tls
