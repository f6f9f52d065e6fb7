// Server: `ferry serve`. Serves one directory to many clients at once, one
// thread per connection (or, started over ssh, one transfer: ServeOptions); a failing connection is
// logged in one line and never disturbs the others. Connections that have not authenticated wait in
// a HandshakeGate of their own, never in the clients' limit. Clients may download (GET) anything
// beneath the directory and, unless read-only, upload (PUT) into it. Every path a client names is
// resolved beneath the directory (openat2 RESOLVE_BENEATH). Thread-safety: run() blocks; connection
// threads share only the read-only options and the served directory's fd.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "ferry/connection.h"
#include "ferry/destination.h"
#include "ferry/handshake_gate.h"
#include "ferry/rendezvous.h"
#include "ferry/sync_backup.h"
#include "ferry/sync_messages.h"
#include "net/address.h"

namespace ferry {

// Connections that have not authenticated yet: at most this many at once (the
// oldest is cut off for a new one), each for at most this long.
inline constexpr size_t kMaxHandshakes = 128;
inline constexpr std::chrono::milliseconds kHandshakeDeadline{10000};

struct ServeOptions {
  std::string dir = ".";
  net::HostPort listen{"", 7077};
  std::string token;
  bool plaintext = false;  // no TLS (--plaintext; clients must use it too)
  bool read_only = false;
  bool fsync = false;
  bool keep_owners = false;  // uploads keep their owners and set-id bits (as root)
  std::chrono::milliseconds timeout{120000};
  size_t max_clients = 64;  // authenticated connections at once
  // Started over ssh (`ferry serve --ssh`): paths are the user's own, not
  // confined to the directory; one transfer is served, then run() returns;
  // and it returns early when `watch_fd` reaches its end (the session is
  // gone) or no request has come within `first_request_deadline`.
  bool confined = true;
  bool once = false;
  int watch_fd = -1;
  std::chrono::milliseconds first_request_deadline{60000};
  int sndbuf = 0;  // fixed socket buffer sizes in bytes; 0 keeps autotuning
  int rcvbuf = 0;
};

class Server {
 public:
  static base::Result<std::unique_ptr<Server>> open(ServeOptions options);
  const net::SocketAddress& address() const { return address_; }
  // Accepts and serves until the process ends, or (once) until its one
  // transfer is over: then its outcome.
  base::Status run();

 private:
  // An upload's --backup place: beside each file, or a directory relative
  // to the target that, on a confining server, stays in the served one.
  base::Result<std::shared_ptr<Backups>> backups_for(const BackupMsg& b, const Destination& dest,
                                                     const std::string& target) const;
  Server(ServeOptions options, Security security, base::UniqueFd root, base::UniqueFd listener,
         net::SocketAddress address);
  void serve_connection(base::UniqueFd fd, std::string peer, HandshakeGate::Ticket ticket);

  ServeOptions options_;
  Security security_;
  base::UniqueFd root_;
  base::UniqueFd listener_;
  net::SocketAddress address_;
  std::atomic<size_t> active_{0};  // authenticated connections
  std::atomic<int> requests_{0};   // PUT and GET requests seen
  std::atomic<int> finished_{0};   // once: 1 the transfer succeeded, 2 it failed
  base::sys::Pipe ended_;          // written to once finished_ is set
  HandshakeGate gate_;             // connections still in the handshake
  StreamRendezvous rendezvous_;
};

}  // namespace ferry
