#include "oci/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "base/unique_fd.h"

namespace oci {
namespace {

base::Status run_hook(const Hook& h, const std::string& name, const std::string& state_json) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return base::fail(base::Error::sys(errno, "pipe", name));
  base::UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<char*> argv, envp;
  for (const auto& a : h.args) argv.push_back(const_cast<char*>(a.c_str()));
  if (argv.empty()) argv.push_back(const_cast<char*>(h.path.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : h.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return base::fail(base::Error::sys(errno, "fork", name));
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    ::dprintf(2, "%s: exec %s: %s\n", name.c_str(), h.path.c_str(), strerror(errno));
    ::_exit(127);
  }
  rd.reset();
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(wr.get(), state_json.data(), state_json.size());  // a hook may ignore its stdin
  wr.reset();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  base::UniqueFd pfd(pidfd);
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do rc = ::poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return base::fail_msg(fmt::format("{} {}: timed out after {} s", name, h.path, *h.timeout));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFSIGNALED(status))
    return base::fail_msg(
        fmt::format("{} {}: killed by signal {}", name, h.path, WTERMSIG(status)));
  return base::fail_msg(fmt::format("{} {}: exit status {}", name, h.path, WEXITSTATUS(status)));
}

}  // namespace

base::Status run_hooks(const std::vector<Hook>& hooks, const std::string& stage,
                       const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    TRY_STATUS(run_hook(hooks[i], fmt::format("hooks.{}[{}]", stage, i), state_json));
  return {};
}

void run_hooks_warning_only(const std::vector<Hook>& hooks, const std::string& stage,
                            const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    if (auto ran = run_hook(hooks[i], fmt::format("hooks.{}[{}]", stage, i), state_json); !ran)
      base::log::warn("warning: {}; going on", ran.error().message());
}

}  // namespace oci
