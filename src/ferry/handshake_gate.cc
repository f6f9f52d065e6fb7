#include "ferry/handshake_gate.h"

#include <sys/socket.h>

#include "base/sys.h"

namespace ferry {

void HandshakeGate::Ticket::done() {
  if (gate_) gate_->leave(id_);
  gate_ = nullptr;
}

HandshakeGate::Ticket HandshakeGate::admit(int fd) {
  std::lock_guard lock(mu_);
  if (waiters_.size() >= capacity_ && !waiters_.empty()) {
    // Shutdown, not close: the waiter's thread owns the socket and sees an error.
    ::shutdown(waiters_.front().socket.get(), SHUT_RDWR);
    waiters_.pop_front();
  }
  uint64_t id = next_id_++;
  // A duplicate of its own, so the number can never be another socket's by
  // the time the waiter is cut off. Without one (EMFILE) there is no cut-off.
  auto copy = base::sys::dup(fd);
  waiters_.push_back({id, base::UniqueFd(copy ? *copy : -1), Clock::now() + deadline_});
  return Ticket(this, id);
}

size_t HandshakeGate::expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  while (!waiters_.empty() && waiters_.front().deadline <= now) {
    ::shutdown(waiters_.front().socket.get(), SHUT_RDWR);
    waiters_.pop_front();
    ++n;
  }
  return n;
}

size_t HandshakeGate::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

void HandshakeGate::leave(uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it)
    if (it->id == id) {
      waiters_.erase(it);
      return;
    }
}

}  // namespace ferry
