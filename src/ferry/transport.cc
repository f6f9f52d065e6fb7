#include "ferry/transport.h"

#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"
#include "net/socket.h"

namespace ferry {

PlainTransport::PlainTransport(base::UniqueFd fd, std::string peer,
                               std::chrono::milliseconds idle_timeout)
    : fd_(std::move(fd)), peer_(std::move(peer)), idle_timeout_(idle_timeout) {
  // SO_RCVTIMEO/SO_SNDTIMEO turn a silent peer into EAGAIN instead of a hang.
  (void)net::set_io_timeout(fd_.get(), idle_timeout_);
}

base::Error stalled_error(const std::string& peer, std::chrono::milliseconds idle, bool reading) {
  return base::Error::coded(
      ETIMEDOUT, fmt::format("{} {}: no progress for {}s (peer stalled or gone)",
                             reading ? "receive from" : "send to", peer, idle.count() / 1000));
}

base::Result<size_t> PlainTransport::read_some(void* buf, size_t len) {
  auto n = base::sys::read(fd_.get(), buf, len, peer_);
  if (!n && (n.error().code() == EAGAIN || n.error().code() == EWOULDBLOCK))
    return base::fail(stalled_error(peer_, idle_timeout_, true));
  if (!n) return base::fail(std::move(n).error().context("receive"));
  return *n;
}

base::Status PlainTransport::write_all(const void* buf, size_t len) {
  auto st = base::sys::write_all(fd_.get(), buf, len, peer_);
  if (!st && (st.error().code() == EAGAIN || st.error().code() == EWOULDBLOCK))
    return base::fail(stalled_error(peer_, idle_timeout_, false));
  if (!st) return base::fail(std::move(st).error().context("send"));
  return {};
}

}  // namespace ferry
