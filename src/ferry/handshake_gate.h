// The server's gate for connections that have not authenticated yet. Anyone
// who can reach the port can open connections, so they never count against
// the authenticated clients' limit: each waits in a pool of its own, for at
// most a deadline of its own, and when the pool is full the oldest waiter is
// cut off to make room (sshd's MaxStartups idea), so idle or slow sockets
// cannot lock a legitimate client out.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>

#include "base/unique_fd.h"

namespace ferry {

class HandshakeGate {
 public:
  using Clock = std::chrono::steady_clock;
  HandshakeGate(size_t capacity, std::chrono::milliseconds deadline)
      : capacity_(capacity), deadline_(deadline) {}

  // A connection in the handshake: leaving the scope (or done()) frees its
  // place. It may outlive the socket's own descriptor.
  class Ticket {
   public:
    Ticket(Ticket&& o) noexcept : gate_(o.gate_), id_(o.id_) { o.gate_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() { done(); }
    void done();

   private:
    friend class HandshakeGate;
    Ticket(HandshakeGate* gate, uint64_t id) : gate_(gate), id_(id) {}
    HandshakeGate* gate_;
    uint64_t id_;
  };

  // Admits socket `fd` (keeping a duplicate of it); cuts off (shutdown) the
  // oldest waiter if full.
  Ticket admit(int fd);
  // Cuts off every waiter past its deadline; returns how many.
  size_t expire(Clock::time_point now = Clock::now());
  size_t waiting() const;

 private:
  struct Waiter {
    uint64_t id;
    base::UniqueFd socket;
    Clock::time_point deadline;
  };
  void leave(uint64_t id);

  const size_t capacity_;
  const std::chrono::milliseconds deadline_;
  mutable std::mutex mu_;
  std::list<Waiter> waiters_;  // oldest first
  uint64_t next_id_ = 1;
};

}  // namespace ferry
