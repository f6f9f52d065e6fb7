#include "base/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sys.h"

namespace base {
namespace {
int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, int stdin_fd,
                                         int stdout_fd) {
  return ChildProcess(TRY(sys::spawn(argv, stdin_fd, stdout_fd)));
}

Result<ChildProcess> ChildProcess::fork(const std::function<int()>& child_main) {
  pid_t pid = TRY(sys::fork());
  if (pid == 0) {
    int code = 125;
    try {
      code = child_main();
    } catch (...) {
    }
    ::_exit(code);
  }
  return ChildProcess(pid);
}

ChildProcess::~ChildProcess() {
  if (pid_ < 0) return;
  (void)sys::kill(pid_, SIGTERM);
  (void)sys::waitpid(pid_, false);
}

Result<int> ChildProcess::wait() {
  if (pid_ < 0) return fail(Error::msg("the process was already reaped"));
  auto status = TRY(sys::waitpid(pid_, false));
  pid_ = -1;
  return exit_code_of(*status);
}

Result<std::optional<int>> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return fail(Error::msg("the process was already reaped"));
  auto pidfd = TRY(sys::pidfd_open(pid_));
  TRY(sys::poll_one(pidfd.get(), POLLIN, static_cast<int>(timeout.count())));
  return poll();
}

Result<std::optional<int>> ChildProcess::poll() {
  if (pid_ < 0) return fail(Error::msg("the process was already reaped"));
  auto status = TRY(sys::waitpid(pid_, true));
  if (!status) return std::optional<int>();
  pid_ = -1;
  return std::optional<int>(exit_code_of(*status));
}

}  // namespace base
