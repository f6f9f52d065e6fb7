#include "tools/delay_line/forwarder.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "base/sys.h"

namespace delay_line {
namespace {

int64_t now_ns() {
  // steady_clock is CLOCK_MONOTONIC on Linux: the timer's clock.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DelayConfig reseeded(DelayConfig c) {
  c.seed ^= 0x5bd1e9955bd1e995ull;
  return c;
}

// Frames read per device per turn: small enough that a busy direction
// does not hold back the other or the departures, large enough to drain.
constexpr int kReadBudget = 16;

}  // namespace

Forwarder::Forwarder(const TunDevice& a, const TunDevice& b, const DelayConfig& config)
    : a_to_b_("a->b", a.fd(), b.fd(), config), b_to_a_("b->a", b.fd(), a.fd(), reseeded(config)) {}

base::Status Forwarder::run(int stop_fd) {
  auto timer = TRY(base::sys::timerfd_create(CLOCK_MONOTONIC, "departure timer"));
  std::array<struct pollfd, 4> fds{};
  fds[0] = {a_to_b_.in_fd(), POLLIN, 0};
  fds[1] = {b_to_a_.in_fd(), POLLIN, 0};
  fds[2] = {timer.get(), POLLIN, 0};
  fds[3] = {stop_fd, POLLIN, 0};
  int64_t armed = 0;  // the departure the timer is set for; 0: disarmed
  for (;;) {
    TRY_STATUS(base::sys::poll(fds, -1));
    if (fds[3].revents != 0) return {};
    int64_t now = now_ns();
    // One turn of reads, then the departures; a device with frames left
    // over is still readable, so the next poll returns at once.
    if (fds[0].revents != 0) TRY_STATUS(a_to_b_.read_some(now, kReadBudget));
    if (fds[1].revents != 0) TRY_STATUS(b_to_a_.read_some(now, kReadBudget));
    now = now_ns();
    a_to_b_.send_due(now);
    b_to_a_.send_due(now);
    auto x = a_to_b_.next_departure(), y = b_to_a_.next_departure();
    int64_t next = x && y ? std::min(*x, *y) : x ? *x : y ? *y : 0;
    // Setting the timer also clears an expiry, so a fired timer is re-set
    // even for the same time rather than read.
    if (next != armed || fds[2].revents != 0) {
      struct timespec when {
        next / 1'000'000'000, next % 1'000'000'000
      };
      TRY_STATUS(base::sys::timerfd_settime_abs(timer.get(), when, "departure timer"));
      armed = next;
    }
  }
}

std::string Forwarder::summary() const {
  return a_to_b_.summary() + "; " + b_to_a_.summary();
}

}  // namespace delay_line
