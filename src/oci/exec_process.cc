#include "oci/exec_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"
#include "oci/cgroup.h"
#include "oci/config.h"
#include "oci/console.h"
#include "oci/container_plan.h"
#include "oci/init_process.h"
#include "oci/process_plan.h"
#include "oci/state.h"
#include "oci/wait_forwarding.h"

namespace oci {
namespace {

base::Result<uint32_t> parse_id(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
    return base::fail_msg(fmt::format("--user: {} '{}' must be a number", what, s));
  uint64_t v = std::stoull(s);
  if (v > UINT32_MAX) return base::fail_msg(fmt::format("--user: {} '{}' is too large", what, s));
  return static_cast<uint32_t>(v);
}

base::Result<Process> build_process(const ExecOptions& o, const Config& config) {
  if (!o.process_file.empty()) {
    std::string text = TRY(base::read_text(o.process_file));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
      return base::fail_msg(fmt::format("--process {}: not valid JSON", o.process_file));
    return TRY_CTX(parse_process_json(j, "process"), "--process " + o.process_file);
  }
  if (o.args.empty()) return base::fail_msg("exec: give the command to run, or --process");
  Process p = config.process.value_or(Process{});
  p.args = o.args;
  p.terminal = o.tty;
  p.console_height = o.console_height;
  p.console_width = o.console_width;
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::fail_msg(fmt::format("--env '{}': must be NAME=VALUE", e));
    std::string name = e.substr(0, eq + 1);
    std::erase_if(p.env, [&](const std::string& x) { return x.rfind(name, 0) == 0; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) {
    if (o.cwd.front() != '/') return base::fail_msg("--cwd: must be an absolute path");
    p.cwd = o.cwd;
  }
  if (p.cwd.empty()) p.cwd = "/";
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    p.user.uid = TRY(parse_id(o.user.substr(0, colon), "uid"));
    p.user.gid = colon == std::string::npos ? 0 : TRY(parse_id(o.user.substr(colon + 1), "gid"));
  }
  for (const auto& g : o.additional_gids)
    p.user.additional_gids.push_back(TRY(parse_id(g, "group")));
  if (!o.add_caps.empty()) {
    if (!p.capabilities) p.capabilities = Capabilities{};
    for (const auto& c : o.add_caps)
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective,
                        &p.capabilities->permitted, &p.capabilities->inheritable})
        set->push_back(c);
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  return p;
}

struct NamespaceFd {
  int flag;
  base::UniqueFd fd;
};

ino_t ns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The init's namespaces that differ from ours, user first; pid is returned apart.
base::Status open_namespaces(pid_t pid, std::vector<NamespaceFd>& out, base::UniqueFd& pid_ns) {
  for (int flag :
       {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWNS}) {
    std::string theirs = fmt::format("/proc/{}/ns/{}", pid, namespace_file(flag));
    if (ns_inode(theirs) == ns_inode(fmt::format("/proc/self/ns/{}", namespace_file(flag))))
      continue;
    out.push_back({flag, TRY(base::sys::open(theirs, O_RDONLY))});
  }
  std::string theirs = fmt::format("/proc/{}/ns/pid", pid);
  if (ns_inode(theirs) != ns_inode("/proc/self/ns/pid_for_children")) {
    pid_ns = TRY(base::sys::open(theirs, O_RDONLY));
  }
  return {};
}

// `root_fd` is the init's root (/proc/PID/root): entering the mount namespace
// is not enough when the container shares one and is chroot()ed inside it.
// `tasks` and `born_in_v2`: how it enters its cgroup (Cgroup::open_entry).
base::Status enter_and_exec(const ProcessPlan& plan, const Cgroup& cg,
                            const std::vector<int>& tasks, bool born_in_v2,
                            std::vector<NamespaceFd>& ns, int root_fd, int console_fd) {
  auto joined = Cgroup::enter_self(tasks);
  if (joined && !born_in_v2) joined = cg.add_to_v2(0);
  if (!joined) return base::fail(std::move(joined).error().context("join the container's cgroup"));
  for (auto& n : ns) TRY_STATUS(base::sys::setns(n.fd.get(), n.flag, namespace_file(n.flag)));
  auto rooted = base::sys::fchdir(root_fd);
  if (rooted) rooted = base::sys::chroot(".");
  if (!rooted)
    return base::fail(base::Error::sys(rooted.error().code(), "chroot", "the container's root"));
  if (plan.terminal)
    TRY_STATUS(setup_terminal(console_fd, false, plan.console_height, plan.console_width));
  else
    TRY_STATUS(leave_caller_session());
  TRY_STATUS(apply_rlimits(plan));
  std::string path = TRY(resolve_executable(plan));
  return apply_and_exec(plan, path);
}

}  // namespace

base::Result<pid_t> start_exec_process(const ExecOptions& o) {
  ContainerRecord rec = TRY(load_record(o.root, o.id));
  Status s = current_status(o.root, rec);
  if (s != Status::kRunning && s != Status::kCreated)
    return base::fail_msg(
        fmt::format("cannot exec in container {}: it is {}", o.id, status_name(s)));
  std::string config_text = TRY(base::read_text(container_dir(o.root, o.id) + "/config.json"));
  Config config = TRY(parse_config(nlohmann::json::parse(config_text, nullptr, false)));
  Process process = TRY(build_process(o, config));
  nlohmann::json seccomp = config.linux_section ? config.linux_section->seccomp : nlohmann::json();
  ProcessPlan plan = TRY(plan_process(process, seccomp));
  plan.preserve_fds = o.preserve_fds;
  if (plan.terminal && o.console_socket.empty())
    return base::fail_msg("--tty needs --console-socket");
  Cgroup cg = TRY(Cgroup::from_json(rec.cgroup));

  std::vector<NamespaceFd> ns;
  base::UniqueFd pid_ns;
  TRY_STATUS(open_namespaces(rec.pid, ns, pid_ns));
  base::UniqueFd root =
      TRY(base::sys::open(fmt::format("/proc/{}/root", rec.pid), O_PATH | O_DIRECTORY));
  if (!init_alive(rec))
    return base::fail_msg(fmt::format("cannot exec in container {}: it stopped", o.id));
  base::UniqueFd console;
  if (plan.terminal) console = TRY(connect_console_socket(o.console_socket));
  if (pid_ns) TRY_STATUS(base::sys::setns(pid_ns.get(), CLONE_NEWPID, "pid namespace"));
  auto [err_read, err_write] = TRY(base::sys::pipe("exec"));

  // Born in its v2 cgroup where the kernel can; it enters v1 hierarchies itself.
  Cgroup::Entry entry = TRY(cg.open_entry());
  bool born_in_v2 = entry.v2_dir.valid();
  auto forked = born_in_v2 ? base::sys::clone_into_cgroup(0, entry.v2_dir.get(), "exec")
                           : base::Result<pid_t>(base::fail_msg(""));
  if (!forked) {
    born_in_v2 = false;
    forked = base::sys::fork("exec");
  }
  pid_t pid = TRY(forked);
  if (pid == 0) {
    (void)base::sys::prctl(PR_SET_DUMPABLE, 0);
    err_read.reset();
    restore_default_sigpipe();
    std::vector<int> tasks;
    for (auto& fd : entry.tasks) tasks.push_back(fd.release());
    auto failed = install_stdio(o.stdio);
    if (failed) failed = enter_and_exec(plan, cg, tasks, born_in_v2, ns, root.get(), console.get());
    std::string msg = failed.error().message();
    (void)!::write(err_write.get(), msg.data(), msg.size());
    ::_exit(127);
  }
  err_write.reset();
  console.reset();
  entry = {};
  std::string error;
  char buf[1024];
  for (;;) {
    auto n = base::sys::read(err_read.get(), buf, sizeof buf);
    if (!n || *n == 0) break;
    error.append(buf, *n);
  }
  if (!error.empty()) {
    (void)base::sys::waitpid(pid, false);
    return base::fail_msg(error);
  }
  if (!o.pid_file.empty())
    TRY_STATUS(base::replace_file(o.pid_file, std::to_string(pid)).map_error([](base::Error e) {
      return e.context("--pid-file");
    }));
  return pid;
}

base::Result<int> exec_in_container(const ExecOptions& o) {
  pid_t pid = TRY(start_exec_process(o));
  if (o.detach) return 0;
  return wait_forwarding_signals(pid);
}

}  // namespace oci
