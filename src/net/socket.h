// TCP sockets: listen, accept, connect with a deadline, and the options ferry
// relies on. Socket buffers are left to the kernel's autotuning unless a
// caller asks for a fixed size (which turns autotuning off for that socket).
// Thread-safety: functions on distinct fds are independent.
#pragma once

#include <chrono>

#include "base/error.h"
#include "base/unique_fd.h"
#include "net/address.h"

namespace net {

struct Accepted {
  base::UniqueFd fd;
  SocketAddress peer;
};

base::Result<base::UniqueFd> listen_tcp(const HostPort& where, int backlog = 128);
// The address a socket is bound to (to learn the port chosen for port 0).
base::Result<SocketAddress> local_address(int fd);
base::Result<Accepted> accept(int listen_fd);
// Tries each resolved address in turn; gives up on one after `timeout`.
// `sndbuf`/`rcvbuf` > 0 fix the socket's buffer sizes before the handshake.
base::Result<base::UniqueFd> connect_tcp(const HostPort& where, std::chrono::milliseconds timeout,
                                         int sndbuf = 0, int rcvbuf = 0);

// Blocking reads and writes fail with EAGAIN after `idle` without progress.
base::Status set_io_timeout(int fd, std::chrono::milliseconds idle);
// SO_RCVLOWAT: poll (and a blocking read) waits until `bytes` are queued,
// or the peer closes, or the receive timeout passes. The kernel caps it at
// half of a fixed receive buffer, or grows an autotuned one to fit, and
// newer kernels also wake the reader when the window is nearly closed.
base::Status set_receive_low_water(int fd, int bytes);
base::Status set_nodelay(int fd, bool on);
// Fixed buffer sizes in bytes; 0 leaves the kernel's autotuning in charge.
base::Status set_buffer_sizes(int fd, int sndbuf, int rcvbuf);

}  // namespace net
