#include "ferry/handshake.h"

#include <thread>

#include <fmt/format.h>

#include "ferry/auth.h"

namespace ferry {
namespace {
// Receives a frame of `want` type; an ERROR frame becomes the peer's message.
base::Result<Frame> expect(Channel& ch, FrameType want) {
  Frame f = TRY(ch.recv());
  if (f.type == FrameType::kError) {
    auto e = decode_error(f.payload);
    return base::fail_msg(e ? fmt::format("{}: {}", ch.peer(), e->message)
                            : fmt::format("{}: malformed ERROR", ch.peer()));
  }
  if (f.type != want)
    return base::fail_msg(
        fmt::format("{}: expected {}, got {}", ch.peer(), frame_name(want), frame_name(f.type)));
  return f;
}
}  // namespace

namespace {
base::Result<std::variant<Put, Get, Join>> decode_request(const Frame& f) {
  using Request = std::variant<Put, Get, Join>;
  if (f.type == FrameType::kPut) return Request(TRY(decode_put(f.payload)));
  if (f.type == FrameType::kGet) return Request(TRY(decode_get(f.payload)));
  if (f.type == FrameType::kJoin) return Request(TRY(decode_join(f.payload)));
  return base::fail_msg(fmt::format("expected a request, got {}", frame_name(f.type)));
}
}  // namespace

void send_error(Channel& ch, const std::string& message) {
  if (ch.send(FrameType::kError, encode(ErrorMsg{1, message}))) (void)ch.flush();
}

base::Result<Welcome> client_handshake(Channel& ch, const std::string& token) {
  Hello hello{kProtocolVersion, TRY(auth::make_nonce())};
  TRY_STATUS(ch.send(FrameType::kHello, encode(hello)));
  TRY_STATUS(ch.flush());
  Challenge c = TRY(decode_challenge(TRY(expect(ch, FrameType::kChallenge)).payload));
  if (c.version != kProtocolVersion)
    return base::fail_msg(fmt::format("{} speaks ferry protocol {}, this client {}", ch.peer(),
                                      c.version, kProtocolVersion));
  TRY_STATUS(
      ch.send(FrameType::kAuth, encode(Auth{auth::client_mac(token, c.nonce, hello.nonce)})));
  TRY_STATUS(ch.flush());
  auto frame = expect(ch, FrameType::kWelcome);
  if (!frame) return base::fail(std::move(frame).error());
  Welcome w = TRY(decode_welcome(frame->payload));
  if (!auth::equal(w.mac, auth::server_mac(token, hello.nonce, c.nonce)))
    return base::fail_msg(
        fmt::format("{} could not prove it knows the token; not trusted", ch.peer()));
  return w;
}

base::Result<std::variant<Put, Get, Join>> server_handshake(Channel& ch, const std::string& token,
                                                            bool read_only) {
  Hello hello = TRY(decode_hello(TRY(expect(ch, FrameType::kHello)).payload));
  if (hello.version != kProtocolVersion) {
    std::string msg = fmt::format("protocol version {} is not supported (server speaks {})",
                                  hello.version, kProtocolVersion);
    send_error(ch, msg);
    return base::fail_msg(msg);
  }
  Challenge c{kProtocolVersion, TRY(auth::make_nonce())};
  TRY_STATUS(ch.send(FrameType::kChallenge, encode(c)));
  TRY_STATUS(ch.flush());
  Auth a = TRY(decode_auth(TRY(expect(ch, FrameType::kAuth)).payload));
  if (!auth::equal(a.mac, auth::client_mac(token, c.nonce, hello.nonce))) {
    // A guesser waits for each answer, in its place of the server's handshake
    // gate: together that holds guessing to a few hundred tries a second at most.
    std::this_thread::sleep_for(kWrongTokenDelay);
    send_error(ch, "authentication failed: wrong or missing token (set FERRY_TOKEN or --token)");
    return base::fail_msg("authentication failed: wrong or missing token");
  }
  Welcome w{auth::server_mac(token, hello.nonce, c.nonce), read_only};
  TRY_STATUS(ch.send(FrameType::kWelcome, encode(w)));
  TRY_STATUS(ch.flush());
  Frame f = TRY(ch.recv());
  // An authenticated peer is told what was wrong with its request (the spec's rule).
  auto request = decode_request(f);
  if (!request) send_error(ch, request.error().message());
  return request;
}

base::Result<Accept> await_accept(Channel& ch) {
  return decode_accept(TRY(expect(ch, FrameType::kAccept)).payload);
}

}  // namespace ferry
