// Name resolution on user-defined networks, as Docker's embedded DNS gives
// it: a small responder per network on its gateway address, UDP port 53,
// which containers on that network use as their name server.
//   - An A query for a container's name (or NAME.NETWORK) on the network is
//     answered with its address, read from the attachments on disk at the
//     time of the query (TTL 0: addresses change as containers come and go).
//   - A name that is not a container's is forwarded to the host's name
//     servers (/etc/resolv.conf) and their answer relayed; with none, or none
//     answering within 2 s, the answer is SERVFAIL.
// The wire format is libldns's (loaded on first use). The responder runs
// until its network is removed; it holds a lock in the run root so that one
// runs per network. TCP queries are not served.
// Thread-safety: one responder per process.
#pragma once

#include <string>

#include "base/error.h"

namespace berth {

// Starts the responder for `network` (gateway `address`) as a daemon unless
// one already runs. Returns once it is listening.
base::Status ensure_dns_responder(const std::string& root, const std::string& state_dir,
                                  const std::string& network, const std::string& address);

}  // namespace berth
