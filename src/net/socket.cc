#include "net/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"

namespace net {
using base::Error;
using base::fail;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {
Status setopt(int fd, int level, int name, int value, const char* what) {
  return base::sys::setsockopt(fd, level, name, &value, sizeof value, what);
}
}  // namespace

Result<UniqueFd> listen_tcp(const HostPort& where, int backlog) {
  std::vector<SocketAddress> addrs;
  bool any = where.host.empty();
  // No host: one IPv6 socket that takes IPv4 too ("::", V6ONLY off), then the
  // IPv4 wildcard alone for a host without IPv6.
  if (any)
    if (auto six = resolve({"::", where.port}, /*passive=*/true)) addrs = std::move(*six);
  for (auto& a : TRY(resolve(any ? HostPort{"0.0.0.0", where.port} : where, /*passive=*/true)))
    addrs.push_back(a);
  Error last = Error::msg("no address");
  for (const SocketAddress& a : addrs) {
    auto fd = base::sys::socket(a.storage.ss_family, SOCK_STREAM);
    if (!fd) {
      last = std::move(fd).error();
      continue;
    }
    TRY_STATUS(setopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"));
    if (any && a.storage.ss_family == AF_INET6)
      TRY_STATUS(setopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY"));
    auto ready = base::sys::bind(fd->get(), a.get(), a.length, a.to_string());
    if (ready) ready = base::sys::listen(fd->get(), backlog, a.to_string());
    if (!ready) {
      last = std::move(ready).error();
      continue;
    }
    return std::move(*fd);
  }
  return fail(std::move(last));
}

Result<SocketAddress> local_address(int fd) {
  SocketAddress a;
  a.length = sizeof a.storage;
  TRY_STATUS(base::sys::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.length));
  return a;
}

Result<Accepted> accept(int listen_fd) {
  Accepted out;
  out.peer.length = sizeof out.peer.storage;
  for (;;) {
    auto fd = base::sys::accept(listen_fd, reinterpret_cast<sockaddr*>(&out.peer.storage),
                                &out.peer.length);
    if (!fd && fd.error().code() == ECONNABORTED) continue;  // that peer gave up; wait on
    out.fd = TRY(std::move(fd));
    return out;
  }
}

namespace {
Status connect_one(int fd, const SocketAddress& a, std::chrono::milliseconds timeout) {
  // Non-blocking connect so a black-holed address cannot hang us.
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (auto c = base::sys::connect(fd, a.get(), a.length, a.to_string()); !c) {
    if (c.error().code() != EINPROGRESS) return c;
    auto ready = base::sys::poll_one(fd, POLLOUT, static_cast<int>(timeout.count()));
    if (ready && *ready == 0) return fail(Error::sys(ETIMEDOUT, "connect to", a.to_string()));
    int soerr = 0;
    socklen_t len = sizeof soerr;
    (void)base::sys::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) return fail(Error::sys(soerr, "connect to", a.to_string()));
  }
  ::fcntl(fd, F_SETFL, flags);
  return {};
}
}  // namespace

Result<UniqueFd> connect_tcp(const HostPort& where, std::chrono::milliseconds timeout, int sndbuf,
                             int rcvbuf) {
  auto addrs = TRY(resolve(where, /*passive=*/false));
  Error last = Error::msg("no address");
  for (const SocketAddress& a : addrs) {
    auto fd = base::sys::socket(a.storage.ss_family, SOCK_STREAM);
    if (!fd) {
      last = std::move(fd).error();
      continue;
    }
    TRY_STATUS(set_buffer_sizes(fd->get(), sndbuf, rcvbuf));
    auto st = connect_one(fd->get(), a, timeout);
    if (!st) {
      last = std::move(st).error();
      continue;
    }
    return std::move(*fd);
  }
  return fail(std::move(last));
}

Status set_receive_low_water(int fd, int bytes) {
  return setopt(fd, SOL_SOCKET, SO_RCVLOWAT, bytes, "SO_RCVLOWAT");
}

Status set_io_timeout(int fd, std::chrono::milliseconds idle) {
  timeval tv{};
  tv.tv_sec = idle.count() / 1000;
  tv.tv_usec = (idle.count() % 1000) * 1000;
  TRY_STATUS(base::sys::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv, "SO_RCVTIMEO"));
  return base::sys::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv, "SO_RCVTIMEO");
}

Status set_nodelay(int fd, bool on) {
  return setopt(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "TCP_NODELAY");
}

Status set_buffer_sizes(int fd, int sndbuf, int rcvbuf) {
  if (sndbuf > 0) TRY_STATUS(setopt(fd, SOL_SOCKET, SO_SNDBUF, sndbuf, "SO_SNDBUF"));
  if (rcvbuf > 0) TRY_STATUS(setopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF"));
  return {};
}

}  // namespace net
