// A container held for a change: its lock (<dir>/lock) taken and its record
// read under it. Every write of a record after the container is made goes
// through one — start, stop, rm, the monitor, reconcile — so a write never
// lands on a record another command changed meanwhile (a `stop` is never
// overwritten by a monitor restarting the container).
//
// The monitor's life is shown by the LifeLock (base/file_lock.h) it holds
// on <dir>/monitor.lock while it runs; the kernel drops it when the monitor
// dies, however it dies, so neither a reboot nor a reused pid can make a
// dead monitor look alive. A --rm container's directory is renamed to
// .removing-<id> when it exits; the lock goes with it.
//
// Lock order: the containers' name lock (<root>/containers.lock), then a
// container's lock. No one waits for a monitor while holding its
// container's lock: a start that forks one reads its first answer under
// the lock, and the monitor takes no lock before it has answered and been
// answered (or seen the end of its channel).
// Thread-safety: one handle per thread; safe across processes.
#pragma once

#include <string>

#include "base/error.h"
#include "base/file_lock.h"
#include "berth/container/container_record.h"

namespace berth {

class ContainerHandle {
 public:
  // Waits for the container's lock, then reads its record. Both fail with
  // "no such container" when the container was removed while they waited.
  static base::Result<ContainerHandle> lock(const std::string& root, const std::string& id);
  // The lock only, for a container whose record is not written yet or is
  // damaged; record() is then a default record with this id.
  static base::Result<ContainerHandle> lock_without_record(const std::string& root,
                                                           const std::string& id);
  ContainerHandle(ContainerHandle&&) = default;

  ContainerRecord& record() { return rec_; }
  const std::string& dir() const { return dir_; }
  // Writes record() atomically (a temporary, then a rename).
  base::Status save() const;

 private:
  ContainerHandle(std::string root, std::string dir, base::FileLock lock)
      : root_(std::move(root)), dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::string root_;
  std::string dir_;
  base::FileLock lock_;
  ContainerRecord rec_;
};

// <dir>/monitor.lock: held by the container's monitor while it runs.
std::string monitor_lock_path(const std::string& dir);
// Whether a monitor is at work on the container whose directory is `dir`.
bool monitor_alive(const std::string& dir);

}  // namespace berth
