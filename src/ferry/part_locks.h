// The part files this process's receivers hold locked, and who holds each.
//
// A part file is locked (flock) by the transfer writing it, so two cannot
// write one file. But a peer that vanishes without a FIN (a cut cable, a
// crashed host) leaves its connection, and so its lock, alive until
// --timeout: a re-run right away was refused ("being received by another
// transfer"). So a receiver that finds a part file locked by another
// receiver of this process waits for that one to have had no frame from its
// peer for kStaleHolder (a live sender sends STATS five times a second),
// cuts its connection off (shutdown) and takes the file over once the lock
// is released. A holder that goes on receiving keeps its file (the newcomer
// is refused after kStaleHolder + kTakeOverWait); so does a holder in
// another process (refused at once).
// Thread-safety: every member may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

inline constexpr std::chrono::milliseconds kStaleHolder{5000};
// How long a newcomer waits for a cut-off holder to let its lock go.
inline constexpr std::chrono::milliseconds kTakeOverWait{5000};

// One receiving connection as the registry sees it.
class ReceiverLiveness {
 public:
  // `socket`: the connection's socket (a duplicate is kept, so the number
  // cutting it off is never another's).
  static base::Result<std::shared_ptr<ReceiverLiveness>> of_socket(int socket);
  // Called for every frame from the peer.
  void heard_from_peer();
  std::chrono::steady_clock::duration silent_for() const;
  void cut_off() const;

 private:
  explicit ReceiverLiveness(base::UniqueFd socket) : socket_(std::move(socket)) {
    heard_from_peer();
  }
  base::UniqueFd socket_;
  std::atomic<int64_t> last_heard_ns_{0};
};

class PartLocks {
 public:
  // A part file's entry in the registry; leaving scope removes it (the lock
  // itself goes with the file's descriptor).
  class Held {
   public:
    Held() = default;
    Held(Held&& o) noexcept : locks_(o.locks_), key_(std::move(o.key_)), who_(o.who_) {
      o.locks_ = nullptr;
    }
    Held& operator=(Held&& o) noexcept;
    Held(const Held&) = delete;
    ~Held();

   private:
    friend class PartLocks;
    Held(PartLocks* locks, std::pair<dev_t, ino_t> key, const ReceiverLiveness* who)
        : locks_(locks), key_(key), who_(who) {}
    PartLocks* locks_ = nullptr;
    std::pair<dev_t, ino_t> key_{};
    const ReceiverLiveness* who_ = nullptr;
  };

  static PartLocks& process();
  // Locks `fd` (the part file `shown`) for `me`, taking it over from a stale
  // holder of this process as above (waiting up to kStaleHolder +
  // kTakeOverWait); fails with "being received by another transfer" otherwise.
  base::Result<Held> lock(int fd, const std::string& shown,
                          const std::shared_ptr<ReceiverLiveness>& me);

 private:
  // Removes the entry if it is still `who`'s (a newcomer may have taken the
  // file over between the descriptor's close and this).
  void release(std::pair<dev_t, ino_t> key, const ReceiverLiveness* who);
  std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, std::shared_ptr<ReceiverLiveness>> holders_;
};

}  // namespace ferry
