#include "ferry/transport.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
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
  if (low_water_ > 1) {
    // Waiting for more than a byte: poll, which wakes at the low-water mark
    // (or when the window is nearly full, or the peer closes), then take what
    // is there. A blocking read would wait for the mark inside the kernel,
    // which on this kernel can miss data merged into a queued packet.
    // Every slice, whatever came is taken, so a link slower than the mark
    // per timeout still makes progress and is not called stalled.
    constexpr int kSliceMs = 200;
    auto deadline = std::chrono::steady_clock::now() + idle_timeout_;
    for (;;) {
      if (std::chrono::steady_clock::now() >= deadline)
        return base::fail(stalled_error(peer_, idle_timeout_, true));
      (void)TRY(base::sys::poll_one(fd_.get(), POLLIN, kSliceMs));
      auto n = base::sys::recv(fd_.get(), buf, len, MSG_DONTWAIT, peer_);
      if (n) return *n;
      if (n.error().code() != EAGAIN && n.error().code() != EWOULDBLOCK)
        return base::fail(std::move(n).error().context("receive"));
    }
  }
  auto n = base::sys::read(fd_.get(), buf, len, peer_);
  if (!n && (n.error().code() == EAGAIN || n.error().code() == EWOULDBLOCK))
    return base::fail(stalled_error(peer_, idle_timeout_, true));
  if (!n) return base::fail(std::move(n).error().context("receive"));
  return *n;
}

// Every wake-up of a sleeping reader costs the sending side a cross-CPU
// wake (in a VM, an exit). Waiting for up to a quarter MiB at a time: a
// 2 GiB download to stdout over veth woke the reader ~6,000 times instead
// of ~22,000, the sender used a quarter less CPU, and it took 1.3-1.6 s
// instead of 1.8-2.3 s.
void PlainTransport::expect(size_t bytes) {
  int want = static_cast<int>(std::clamp<size_t>(bytes, 1, 256u << 10));
  if (want == low_water_) return;
  (void)net::set_receive_low_water(fd_.get(), want);  // a mere hint: reads work without it
  low_water_ = want;
}

base::Status PlainTransport::write_all(const void* buf, size_t len) {
  auto st = base::sys::write_all(fd_.get(), buf, len, peer_);
  if (!st && (st.error().code() == EAGAIN || st.error().code() == EWOULDBLOCK))
    return base::fail(stalled_error(peer_, idle_timeout_, false));
  if (!st) return base::fail(std::move(st).error().context("send"));
  return {};
}

}  // namespace ferry
