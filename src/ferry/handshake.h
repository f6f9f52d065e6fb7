// The opening of every ferry connection: version check and mutual
// token authentication (auth.h), then the client's one request.
//   client: HELLO ->            server: <- CHALLENGE
//   client: AUTH ->             server: <- WELCOME (or ERROR, then close)
// Thread-safety: each call uses one Channel from one thread.
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "base/error.h"
#include "ferry/channel.h"
#include "ferry/messages.h"

namespace ferry {

// Client side. On success the server has proven it knows the token too.
base::Result<Welcome> client_handshake(Channel& ch, const std::string& token);
// Server side: authenticates the client, then reads its request (or, for an
// extra stream of a parallel transfer, its JOIN). A wrong token is answered
// with ERROR after kWrongTokenDelay; a malformed request with ERROR at once.
inline constexpr std::chrono::milliseconds kWrongTokenDelay{1000};
base::Result<std::variant<Put, Get, Join>> server_handshake(Channel& ch, const std::string& token,
                                                            bool read_only);
// Sends an ERROR frame (best effort) so the peer can print why.
void send_error(Channel& ch, const std::string& message);
// Waits for ACCEPT (or the server's ERROR) after a request or a JOIN.
base::Result<Accept> await_accept(Channel& ch);

}  // namespace ferry
