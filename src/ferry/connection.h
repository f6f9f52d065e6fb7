// The bytes under a ferry connection: TLS 1.3 keyed by the token (tls.h) by
// default, plaintext only when both sides are started with --plaintext.
//
// A server tells the two apart by the connection's first byte: 0x16 opens a
// TLS handshake, 0x01 a plaintext HELLO. A plaintext HELLO that reaches a TLS
// server is answered with one ERROR frame that says why it is refused (protocol
// 1, or --plaintext on one side only), so an old or misconfigured client prints
// one clear line; a TLS client that reaches a plaintext server is closed on.
// Thread-safety: a Security is shared read-only by every connection of a
// client or a server.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "ferry/channel.h"
#include "ferry/tls.h"

namespace ferry {

struct Security {
  bool plaintext = false;
  std::shared_ptr<tls::Context> tls;  // set unless plaintext

  // For one role and token; fails only when OpenSSL cannot be set up.
  static base::Result<Security> make(tls::Role role, bool plaintext, std::string_view token);
};

// The client's side of a freshly connected socket.
base::Result<std::unique_ptr<Channel>> open_client_channel(base::UniqueFd fd, std::string peer,
                                                           std::chrono::milliseconds timeout,
                                                           const Security& security);
// The server's side of an accepted socket. Errors are for the log; what the
// peer had to be told has been sent.
base::Result<std::unique_ptr<Channel>> open_server_channel(base::UniqueFd fd, std::string peer,
                                                           std::chrono::milliseconds timeout,
                                                           const Security& security);

}  // namespace ferry
