// ChildProcess: the one owner of a child process. It is started with
// posix_spawn, or forked to run a function; if it is still running when its
// owner goes, it gets SIGTERM and is reaped, so no caller writes its own
// kill-and-wait path. release() hands a child that must outlive its owner
// (a monitor) to nobody: it is neither signalled nor reaped by this object.
// Thread-safety: one thread per object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace base {

class ChildProcess {
 public:
  // `stdin_fd`, `stdout_fd`: descriptors that become the child's 0 and 1
  // (-1: inherited). The caller keeps (and closes) its own copies.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv, int stdin_fd = -1,
                                    int stdout_fd = -1);
  // fork(2); the child runs `child_main` and _exits with what it returns
  // (125 if it throws). Only for a process with one thread.
  static Result<ChildProcess> fork(const std::function<int()>& child_main);
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Blocks until it exits: its exit code, or 128 + the signal that ended it.
  Result<int> wait();
  // The same without blocking: nullopt while it runs.
  Result<std::optional<int>> poll();
  // Waits at most `timeout` for it to exit (woken the moment it does, by a
  // pidfd): its exit code, or nullopt if it still runs.
  Result<std::optional<int>> wait_for(std::chrono::milliseconds timeout);
  // Lets it run on unowned: this object forgets it.
  void release() { pid_ = -1; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;  // -1 once reaped
};

}  // namespace base
