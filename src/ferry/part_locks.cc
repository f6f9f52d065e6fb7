#include "ferry/part_locks.h"

#include <sys/file.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include <fmt/format.h>

#include "base/sys.h"

namespace ferry {
namespace sys = base::sys;
using Clock = std::chrono::steady_clock;

base::Result<std::shared_ptr<ReceiverLiveness>> ReceiverLiveness::of_socket(int socket) {
  base::UniqueFd copy(TRY(sys::dup(socket)));
  return std::shared_ptr<ReceiverLiveness>(new ReceiverLiveness(std::move(copy)));
}

void ReceiverLiveness::heard_from_peer() {
  last_heard_ns_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

Clock::duration ReceiverLiveness::silent_for() const {
  return Clock::now().time_since_epoch() -
         Clock::duration(last_heard_ns_.load(std::memory_order_relaxed));
}

void ReceiverLiveness::cut_off() const {
  ::shutdown(socket_.get(), SHUT_RDWR);
}

PartLocks::Held& PartLocks::Held::operator=(Held&& o) noexcept {
  if (this != &o) {
    if (locks_) locks_->release(key_, who_);
    locks_ = o.locks_;
    key_ = o.key_;
    who_ = o.who_;
    o.locks_ = nullptr;
  }
  return *this;
}

PartLocks::Held::~Held() {
  if (locks_) locks_->release(key_, who_);
}

PartLocks& PartLocks::process() {
  static PartLocks locks;
  return locks;
}

void PartLocks::release(std::pair<dev_t, ino_t> key, const ReceiverLiveness* who) {
  std::lock_guard lock(mu_);
  auto it = holders_.find(key);
  if (it != holders_.end() && it->second.get() == who) holders_.erase(it);
}

base::Result<PartLocks::Held> PartLocks::lock(int fd, const std::string& shown,
                                              const std::shared_ptr<ReceiverLiveness>& me) {
  struct stat st = TRY(sys::fstat(fd, shown));
  std::pair<dev_t, ino_t> key{st.st_dev, st.st_ino};
  auto refused = [&] {
    return base::fail_msg(fmt::format("{}: being received by another transfer", shown));
  };
  // Long enough for a holder to fall silent, then to let go once cut off.
  auto deadline = Clock::now() + kStaleHolder + kTakeOverWait;
  bool cut = false;
  for (;;) {
    if (TRY(sys::flock_exclusive(fd, shown))) {
      std::lock_guard lock(mu_);
      holders_[key] = me;
      return Held(this, key, me.get());
    }
    {
      std::lock_guard lock(mu_);
      auto it = holders_.find(key);
      if (it == holders_.end() && !cut) return refused();  // held by another process
      if (it != holders_.end() && !cut && it->second->silent_for() >= kStaleHolder) {
        it->second->cut_off();
        cut = true;
      }
    }
    if (Clock::now() > deadline) return refused();  // its holder is still receiving
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace ferry
