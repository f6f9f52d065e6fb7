// The runtime <-> container-init conversation during `create`, over a
// SOCK_SEQPACKET socketpair: one message per packet, "kind" then "\n" then
// an optional body. Kinds: go (runtime -> init, body = state JSON for hooks),
// hooks (init asks the runtime to run prestart/createRuntime hooks),
// ready (init is waiting for `start`), error (body = the one-line reason).
// Thread-safety: plain calls on an fd.
#pragma once

#include <string>
#include <utility>

#include "base/error.h"

namespace oci {

base::Status send_message(int fd, const std::string& kind, const std::string& body = {});
// EOF (the peer exited) is an error with code EPIPE.
base::Result<std::pair<std::string, std::string>> receive_message(int fd);

}  // namespace oci
