// Locks on files, each held by one guard for its lifetime.
//
// FileLock: an exclusive flock(2) on a file (made 0600 when missing), for
// short critical sections across processes (a store's names, a container's
// record). flock belongs to the open file: a process that forks while
// holding one must close its copy in the child, or the child holds it too.
//
// LifeLock: a process's proof that it is alive, for as long as it runs. A
// write record lock (fcntl) on a file: it belongs to the process itself, is
// never inherited by a child it forks or clones, and the kernel drops it
// when the process dies, however it dies. So "is that process still at
// work" needs no pid, which a reboot or pid reuse can make lie. The holder
// must never open the same file again (closing any fd of a file drops the
// process's record locks on it); `held` and `wait_released` know the files
// this process holds and never open those.
// Thread-safety: FileLock: one owner. LifeLock: take it on one thread.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace base {

class FileLock {
 public:
  // Waits until the lock is free.
  static Result<FileLock> acquire(const std::string& path);
  // Whether `path` still names the locked file: false when it was removed
  // (or removed and made again) while we waited for the lock.
  bool still_at(const std::string& path) const;
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

class LifeLock {
 public:
  // Takes the lock on `path` (made 0600 when missing) for this process;
  // fails, naming `what`, when a live process holds it (one that only
  // waits for its release, briefly, is waited out).
  static Result<LifeLock> take(const std::string& path, std::string_view what);
  LifeLock(LifeLock&&) noexcept;
  LifeLock& operator=(LifeLock&&) = delete;
  ~LifeLock();

  // Whether a live process holds the lock at `path` (false when there is no
  // such file); also true for a holder in another pid namespace.
  static bool held(const std::string& path);
  // Returns once no process holds the lock at `path`.
  static Status wait_released(const std::string& path);

 private:
  explicit LifeLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace base
