#include "oci/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace oci {
namespace {

base::Status run_hook(const Hook& h, const std::string& name, const std::string& state_json) {
  auto [rd, wr] = TRY(base::sys::pipe(name));
  std::vector<char*> argv, envp;
  for (const auto& a : h.args) argv.push_back(const_cast<char*>(a.c_str()));
  if (argv.empty()) argv.push_back(const_cast<char*>(h.path.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : h.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = TRY(base::sys::fork(name));
  if (pid == 0) {
    (void)base::sys::dup2(rd.get(), 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    base::Error failed = base::sys::execve(h.path, argv.data(), envp.data());
    ::dprintf(2, "%s: %s\n", name.c_str(), failed.message().c_str());
    ::_exit(127);
  }
  rd.reset();
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(wr.get(), state_json.data(), state_json.size());  // a hook may ignore its stdin
  wr.reset();
  auto pidfd = base::sys::pidfd_open(pid);
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  if (pidfd) {
    auto ready = base::sys::poll_one(pidfd->get(), POLLIN, timeout_ms);
    if (ready && *ready == 0) {
      (void)base::sys::kill(pid, SIGKILL);
      (void)base::sys::waitpid(pid, false);
      return base::fail_msg(fmt::format("{} {}: timed out after {} s", name, h.path, *h.timeout));
    }
  }
  auto waited = base::sys::waitpid(pid, false);
  int status = waited && *waited ? **waited : 0;
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
