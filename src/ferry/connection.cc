#include "ferry/connection.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/frame.h"
#include "ferry/handshake.h"
#include "ferry/messages.h"
#include "ferry/transport.h"

namespace ferry {

base::Result<Security> Security::make(tls::Role role, bool plaintext, std::string_view token) {
  Security s;
  s.plaintext = plaintext;
  if (!plaintext) s.tls = TRY(tls::Context::make(role, token));
  return s;
}

base::Result<std::unique_ptr<Channel>> open_client_channel(base::UniqueFd fd, std::string peer,
                                                           std::chrono::milliseconds timeout,
                                                           const Security& security) {
  if (security.plaintext)
    return std::make_unique<Channel>(
        std::make_unique<PlainTransport>(std::move(fd), std::move(peer), timeout));
  return std::make_unique<Channel>(
      TRY(tls::establish(security.tls, std::move(fd), std::move(peer), timeout)));
}

namespace {
// A plaintext HELLO at a server that speaks only TLS: says why, in the ERROR
// frame every version of the protocol reads.
base::Error refuse_plaintext(Channel& ch) {
  auto frame = ch.recv();
  if (!frame) return std::move(frame).error();
  auto hello = frame->type == FrameType::kHello ? decode_hello(frame->payload)
                                                : base::fail_msg("expected HELLO");
  if (!hello) return base::Error::msg(fmt::format("plaintext: {}", hello.error().message()));
  std::string why =
      hello->version == kProtocolVersion
          ? "this server accepts only encrypted connections: run the client without --plaintext"
          : fmt::format(
                "ferry protocol {} is not supported: this server speaks protocol {} (TLS); "
                "upgrade ferry on the client to 0.7 or later",
                hello->version, kProtocolVersion);
  send_error(ch, why);
  return base::Error::msg(fmt::format("refused a plaintext client: {}", why));
}
}  // namespace

base::Result<std::unique_ptr<Channel>> open_server_channel(base::UniqueFd fd, std::string peer,
                                                           std::chrono::milliseconds timeout,
                                                           const Security& security) {
  uint8_t first = 0;
  // Blocks until the client's first byte, the handshake gate's deadline
  // (which shuts the socket down) or the peer's close.
  size_t n = TRY(base::sys::recv(fd.get(), &first, 1, MSG_PEEK, peer));
  if (n == 0) return base::fail_msg("closed before the handshake");
  bool hello = first == static_cast<uint8_t>(FrameType::kHello);
  if (first == tls::kHandshakeRecord && !security.plaintext)
    return std::make_unique<Channel>(
        TRY(tls::establish(security.tls, std::move(fd), std::move(peer), timeout)));
  if (first == tls::kHandshakeRecord)
    return base::fail_msg("a TLS client: this server was started with --plaintext");
  if (!hello) return base::fail_msg(fmt::format("not a ferry client (first byte {:#04x})", first));
  auto ch = std::make_unique<Channel>(
      std::make_unique<PlainTransport>(std::move(fd), std::move(peer), timeout));
  if (!security.plaintext) return base::fail(refuse_plaintext(*ch));
  return ch;
}

}  // namespace ferry
