#include "oci/init_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"
#include "oci/cgroup.h"
#include "oci/console.h"
#include "oci/hooks.h"
#include "oci/sync_socket.h"

namespace oci {
namespace {

base::Status join_namespaces(const ContainerPlan& plan) {
  for (const auto& [flag, path] : plan.joins) {
    auto fd = base::sys::open(path, O_RDONLY);
    if (!fd) return base::fail(base::Error::sys(fd.error().code(), "open namespace", path));
    TRY_STATUS(base::sys::setns(fd->get(), flag, path).map_error([](base::Error e) {
      return e.context("linux.namespaces");
    }));
  }
  return {};
}

base::Status become_root_in_user_namespace(const ContainerPlan& plan) {
  if (!(plan.clone_flags & CLONE_NEWUSER) && !plan.rootfs.in_user_namespace) return {};
  TRY_STATUS(base::sys::setresgid(0, "0 in the user namespace"));
  return base::sys::setresuid(0, "0 in the user namespace");
}

base::Status setup_until_ready(const ContainerPlan& plan, const InitChannels& ch,
                               std::string& state) {
  auto [kind, body] = TRY(receive_message(ch.sync_fd));
  if (kind != "go") return base::fail_msg("unexpected message from the runtime: " + kind);
  state = body;
  // First: whatever it does from here on is the container's.
  TRY_STATUS(Cgroup::enter_self(ch.cgroup_tasks).map_error([](base::Error e) {
    return e.context("join the container's cgroup");
  }));
  TRY_STATUS(become_root_in_user_namespace(plan));
  TRY_STATUS(join_namespaces(plan));
  TRY_STATUS(become_root_in_user_namespace(plan));
  if (plan.unshare_flags) TRY_STATUS(base::sys::unshare(plan.unshare_flags, "linux.namespaces"));
  const Config& c = plan.config;
  if (!c.hostname.empty())
    TRY_STATUS(base::sys::sethostname(c.hostname).map_error([](base::Error e) {
      return e.context("hostname");
    }));
  if (!c.domainname.empty())
    TRY_STATUS(base::sys::setdomainname(c.domainname).map_error([](base::Error e) {
      return e.context("domainname");
    }));
  TRY_STATUS(bind_rootfs(plan.rootfs));
  // In a shared mount namespace the runtime must undo this bind if create fails.
  if (plan.rootfs.shared_mount_ns) TRY_STATUS(send_message(ch.sync_fd, "bound"));
  TRY_STATUS(populate_rootfs(plan.rootfs));
  if (!c.hooks.prestart.empty() || !c.hooks.create_runtime.empty()) {
    TRY_STATUS(send_message(ch.sync_fd, "hooks"));
    auto [reply, detail] = TRY(receive_message(ch.sync_fd));
    if (reply != "go") return base::fail_msg(detail);
  }
  TRY_STATUS(run_hooks(c.hooks.create_container, "createContainer", state));
  TRY_STATUS(enter_rootfs(plan.rootfs));
  if (plan.process.terminal)
    TRY_STATUS(setup_terminal(ch.console_fd, true, plan.process.console_height,
                              plan.process.console_width));
  else
    TRY_STATUS(leave_caller_session());
  if (ch.console_fd >= 0) ::close(ch.console_fd);
  TRY_STATUS(apply_rlimits(plan.process));
  return {};
}

}  // namespace

base::Status install_stdio(const std::array<int, 3>& stdio) {
  // Each is first copied above 2, so that one given as, say, 1 for stdin is
  // not overwritten before its turn; dup2 then clears close-on-exec.
  std::array<base::UniqueFd, 3> above;
  for (size_t i = 0; i < 3; ++i)
    if (stdio[i] >= 0)
      above[i] = base::UniqueFd(TRY(base::sys::dup(stdio[i], 3).map_error([](base::Error e) {
        return e.context("the container's stdio");
      })));
  for (size_t i = 0; i < 3; ++i)
    if (above[i])
      TRY_STATUS(base::sys::dup2(above[i].get(), static_cast<int>(i)).map_error([](base::Error e) {
        return e.context("the container's stdio");
      }));
  return {};
}

void restore_default_sigpipe() {
  ::signal(SIGPIPE, SIG_DFL);
}

void run_init(const ContainerPlan& plan, const InitChannels& ch) {
  // Not dumpable: no process in the container may open this one's /proc/<pid>/exe.
  (void)base::sys::prctl(PR_SET_DUMPABLE, 0);
  std::string state;
  std::string path;
  restore_default_sigpipe();
  auto ready = install_stdio(ch.stdio);
  if (ready) ready = setup_until_ready(plan, ch, state);
  if (ready && plan.config.process) {
    auto resolved = resolve_executable(plan.process);
    if (resolved)
      path = *resolved;
    else
      ready = base::fail(std::move(resolved).error());
  }
  if (!ready) {
    (void)send_message(ch.sync_fd, "error", ready.error().message());
    ::_exit(1);
  }
  (void)send_message(ch.sync_fd, "ready");
  ::close(ch.sync_fd);
  // While the runtime finishes create and waits for `start`, the init becomes
  // the process (user, capabilities, seccomp without no_new_privs), as runc's
  // init does before its wait: after `start` only the exec is left. A failure
  // here is reported by `start`, as one of the exec would be.
  base::Status done =
      base::fail_msg("process: not set in config.json, so there is nothing to start");
  if (plan.config.process) done = become_process(plan.process);
  char byte;
  auto signalled = base::sys::read(ch.fifo_fd, &byte, 1, "the exec fifo");
  if (!signalled || *signalled != 1) {
    // The program never runs without `start`: a seccomp profile that denies
    // read (loaded above) must fail here, not turn create into run.
    std::string why =
        fmt::format("berth-oci: container init: waiting for start: {}\n",
                    signalled ? "the exec fifo was closed" : signalled.error().message());
    (void)base::sys::write(2, why.data(), why.size(), "stderr");
    ::_exit(1);
  }
  // fifo_fd stays open (close-on-exec): `start` waits for it to close, so it
  // returns, and poststart hooks run, only once the program has been executed.
  // If the program cannot be started, `start` reads why from the fifo.
  if (done) {
    auto hooks = run_hooks(plan.config.hooks.start_container, "startContainer", state);
    done = hooks ? exec_process(plan.process, path) : hooks;
  }
  // `start` reads why from the fifo and reports it; the container's own stderr
  // (the engine's log of the program) is left to the program.
  std::string why = done.error().message();
  (void)!::write(ch.fifo_fd, why.data(), why.size());
  ::_exit(127);
}

}  // namespace oci
