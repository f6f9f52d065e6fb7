#include "oci/lifecycle.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "base/process_identity.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "oci/cgroup.h"
#include "oci/console.h"
#include "oci/container_plan.h"
#include "oci/hooks.h"
#include "oci/init_process.h"
#include "oci/rootfs.h"
#include "oci/sync_socket.h"
#include "oci/wait_forwarding.h"

namespace oci {
namespace {

base::Status make_root(const std::string& root) {
  std::string cur;
  for (size_t i = 1; i <= root.size(); ++i) {
    if (i == root.size() || root[i] == '/') {
      cur = root.substr(0, i);
      if (auto made = base::sys::mkdirat(AT_FDCWD, cur, 0700);
          !made && made.error().code() != EEXIST)
        return base::fail(std::move(made).error().context("--root"));
    }
  }
  return {};
}

void remove_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

base::Status write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
  std::string text;
  for (const auto& m : maps) text += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return base::write_text(fmt::format("/proc/{}/{}", pid, file), text)
      .map_error([&](base::Error e) {
        return e.context(std::string("linux.") + (file[0] == 'u' ? "uidMappings" : "gidMappings"));
      });
}

std::string owner_name() {
  return ::geteuid() == 0 ? "root" : std::to_string(::geteuid());
}

base::Result<Config> recorded_config(const std::string& root, const std::string& id) {
  std::string text = TRY(base::read_text(container_dir(root, id) + "/config.json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    return base::fail_msg(fmt::format("container {}: recorded config is damaged", id));
  return parse_config(j);
}

std::string hook_state(const ContainerRecord& r, Status s) {
  return state_json(r, s).dump();
}

// The parent's half of create: id maps, the v2 cgroup (unless the init was
// born there), hooks, until init says ready.
// `rec.shared_mount_ns` is set once the init has bound the root in a shared
// mount namespace, so a failure from then on detaches it.
base::Status guide_init(const ContainerPlan& plan, const Cgroup& cg, bool born_in_v2, pid_t pid,
                        int sync_fd, ContainerRecord& rec) {
  if (plan.clone_flags & CLONE_NEWUSER) {
    const Linux& l = *plan.config.linux_section;
    TRY_STATUS(write_id_map(pid, "uid_map", l.uid_mappings));
    TRY_STATUS(write_id_map(pid, "gid_map", l.gid_mappings));
  }
  // The init enters its v1 hierarchies itself (Cgroup::open_entry).
  if (!born_in_v2) TRY_STATUS(cg.add_to_v2(pid));
  if (plan.process.oom_score_adj)
    TRY_STATUS(base::write_text(fmt::format("/proc/{}/oom_score_adj", pid),
                                std::to_string(*plan.process.oom_score_adj))
                   .map_error([](base::Error e) { return e.context("process.oomScoreAdj"); }));
  rec.pid = pid;
  // The hooks of the create phase see the status "created", as runc and crun give.
  TRY_STATUS(send_message(sync_fd, "go", hook_state(rec, Status::kCreated)));
  for (;;) {
    auto [kind, body] = TRY(receive_message(sync_fd));
    if (kind == "ready") return {};
    if (kind == "error") return base::fail_msg(body);
    if (kind == "bound") rec.shared_mount_ns = plan.shared_mount_ns;
    if (kind == "hooks") {
      std::string state = hook_state(rec, Status::kCreated);
      auto ran = run_hooks(plan.config.hooks.prestart, "prestart", state);
      if (ran) ran = run_hooks(plan.config.hooks.create_runtime, "createRuntime", state);
      if (!ran) {
        (void)send_message(sync_fd, "error", ran.error().message());
        return ran;
      }
      TRY_STATUS(send_message(sync_fd, "go"));
    }
  }
}

base::Status write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return {};
  return base::replace_file(path, std::to_string(pid)).map_error([](base::Error e) {
    return e.context("--pid-file");
  });
}

// Creates the container; the init process is a child of this process.
base::Result<ContainerRecord> create_impl(const CreateOptions& o) {
  TRY_STATUS(check_id(o.id));
  PlanOptions popts{o.no_pivot, o.preserve_fds};
  ContainerPlan plan = TRY(plan_container(o.bundle, popts));
  if (plan.process.terminal && o.console_socket.empty())
    return base::fail_msg("process.terminal is true, so --console-socket is required");
  TRY_STATUS(make_root(o.root));
  std::string dir = container_dir(o.root, o.id);
  if (auto made = base::sys::mkdirat(AT_FDCWD, dir, 0700); !made) {
    if (made.error().code() == EEXIST)
      return base::fail_msg(fmt::format("container {} already exists", o.id));
    return base::fail(std::move(made).error());
  }
  // From here on, a failure removes everything made so far.
  std::optional<Cgroup> cg;
  pid_t pid = -1;
  ContainerRecord rec;
  auto undo = [&](base::Error e) -> base::Result<ContainerRecord> {
    if (pid > 0) {
      (void)base::sys::kill(pid, SIGKILL);
      (void)base::sys::waitpid(pid, false);
    }
    if (!rec.shared_mount_ns.empty()) (void)release_shared_rootfs(rec.shared_mount_ns, rec.rootfs);
    if (cg) (void)cg->destroy();
    remove_dir(dir);
    return base::fail(std::move(e));
  };
  std::string fifo = fifo_path(o.root, o.id);
  if (auto made = base::sys::mkfifo(fifo, 0600); !made) return undo(made.error());
  if (auto w = base::replace_file(dir + "/config.json", plan.config_text); !w)
    return undo(w.error());
  auto made = Cgroup::create(plan.config.linux_section->cgroups_path, o.id);
  if (!made) return undo(made.error());
  cg = std::move(*made);
  if (auto a = cg->apply(plan.resources); !a) return undo(a.error());
  for (const auto& [c, d] :
       cg->to_json()["dirs"].get<std::vector<std::pair<std::string, std::string>>>())
    plan.rootfs.cgroup_dirs.emplace_back(c, d);

  base::UniqueFd console;
  if (plan.process.terminal) {
    auto s = connect_console_socket(o.console_socket);
    if (!s) return undo(s.error());
    console = std::move(*s);
  }
  auto fifo_fd = base::sys::open(fifo, O_RDWR);
  if (!fifo_fd) return undo(fifo_fd.error());
  base::UniqueFd fifo_owner = std::move(*fifo_fd);
  auto pair = base::sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "sync");
  if (!pair) return undo(pair.error());
  base::UniqueFd parent_end = std::move(pair->first), child_end = std::move(pair->second);

  base::UniqueFd own_pid_ns;
  if (!plan.pid_ns_path.empty()) {
    if (auto own = base::sys::open("/proc/self/ns/pid_for_children", O_RDONLY))
      own_pid_ns = std::move(*own);
    auto ns = base::sys::open(plan.pid_ns_path, O_RDONLY);
    base::Status joined = ns ? base::sys::setns(ns->get(), CLONE_NEWPID)
                             : base::Status(base::fail(std::move(ns).error()));
    if (!joined)
      return undo(base::Error::sys(joined.error().code(), "setns", plan.pid_ns_path)
                      .context("linux.namespaces"));
  }
  rec.id = o.id;
  rec.bundle = plan.bundle;
  rec.rootfs = plan.rootfs.rootfs;
  rec.created = now_rfc3339();
  rec.owner = owner_name();
  rec.oci_version = plan.config.oci_version;
  rec.annotations = plan.config.annotations;
  rec.cgroup = cg->to_json();
  rec.has_poststart_hooks = !plan.config.hooks.poststart.empty();
  rec.has_poststop_hooks = !plan.config.hooks.poststop.empty();

  auto entry = cg->open_entry();
  if (!entry) return undo(entry.error());
  auto flags = static_cast<unsigned long>(plan.clone_flags);
  // Born in its v2 cgroup where the kernel can (5.7 on); else moved there below.
  bool born_in_v2 = entry->v2_dir.valid();
  auto cloned = born_in_v2
                    ? base::sys::clone_into_cgroup(flags, entry->v2_dir.get(), "container init")
                    : base::Result<pid_t>(base::fail_msg(""));
  if (!cloned) {
    born_in_v2 = false;
    cloned = base::sys::clone(flags, "container init");
  }
  if (cloned && *cloned == 0) {
    parent_end.reset();
    InitChannels ch{child_end.get(), fifo_owner.get(), console.get(), o.stdio, {}};
    for (auto& fd : entry->tasks) ch.cgroup_tasks.push_back(fd.release());
    run_init(plan, ch);
  }
  entry->tasks.clear();
  entry->v2_dir.reset();
  if (own_pid_ns) (void)base::sys::setns(own_pid_ns.get(), CLONE_NEWPID);
  if (!cloned) return undo(cloned.error());
  pid = *cloned;
  child_end.reset();
  console.reset();
  fifo_owner.reset();
  if (auto g = guide_init(plan, *cg, born_in_v2, pid, parent_end.get(), rec); !g)
    return undo(g.error());
  rec.start_time = process_start_time(pid);
  if (auto s = save_record(o.root, rec); !s) return undo(s.error());
  if (auto p = write_pid_file(o.pid_file, pid); !p) return undo(p.error());
  return rec;
}

base::Result<ContainerRecord> require_status(const std::string& root, const std::string& id,
                                             std::initializer_list<Status> allowed,
                                             const char* action) {
  ContainerRecord rec = TRY(load_record(root, id));
  Status s = current_status(root, rec);
  for (Status a : allowed)
    if (a == s) return rec;
  return base::fail_msg(
      fmt::format("cannot {} container {}: it is {}", action, id, status_name(s)));
}

// Poststart hooks run after the program: the spec's validation suite checks
// that the program's first write comes before the hook's. Its execve alone does
// not order them (the hook, forked here, would race the program's start-up on
// another core), so this waits until the program has run far enough to block
// or exit, and at most 100 ms, so that a program that keeps the CPU still gets
// its hooks run promptly. Only starts with poststart hooks pay for this.
void let_the_program_run(pid_t pid) {
  constexpr auto kAtMost = std::chrono::milliseconds(100);
  auto deadline = std::chrono::steady_clock::now() + kAtMost;
  while (base::process_state(pid) == 'R' && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

}  // namespace

base::Result<ContainerRecord> create_container(const CreateOptions& o) {
  return create_impl(o);
}

base::Status start_container(const std::string& root, const std::string& id) {
  ContainerRecord rec = TRY(require_status(root, id, {Status::kCreated}, "start"));
  std::string fifo = fifo_path(root, id);
  // The read end tells when the init's copy of the fifo closes: at its execve.
  base::UniqueFd watch;
  if (auto w = base::sys::open(fifo, O_RDONLY | O_NONBLOCK)) watch = std::move(*w);
  auto f = base::sys::open(fifo, O_WRONLY | O_NONBLOCK);
  if (!f) {
    if (f.error().code() == ENXIO)
      return base::fail_msg(fmt::format("cannot start container {}: its init process is gone", id));
    return base::fail(std::move(f).error());
  }
  char byte = '0';
  TRY_STATUS(base::sys::write_all(f->get(), &byte, 1, fifo));
  f->reset();
  ::unlink(fifo.c_str());
  // No events asked: returns on POLLHUP (no writer left).
  if (watch) (void)base::sys::poll_one(watch.get(), 0, 10000);
  // The init writes why into the fifo when its program could not be started;
  // a program that ran and already exited leaves it empty.
  std::string why;
  char buf[4096];
  for (ssize_t n; watch && (n = ::read(watch.get(), buf, sizeof buf)) > 0;)
    why.append(buf, static_cast<size_t>(n));
  if (!why.empty() && why[0] == byte) {  // our byte, unread: the init was gone
    if (why.size() == 1)
      return base::fail_msg(fmt::format("cannot start container {}: its init process is gone", id));
    why.erase(0, 1);
  }
  if (!why.empty())
    return base::fail_msg(fmt::format("container {} could not start its program: {}", id, why));
  // Parsing the recorded config again (Docker's seccomp profile makes it
  // 20 KB) is a third of a millisecond; only poststart hooks need it.
  if (!rec.has_poststart_hooks) return {};
  Config config = TRY(recorded_config(root, id));
  if (!config.hooks.poststart.empty()) let_the_program_run(rec.pid);
  run_hooks_warning_only(config.hooks.poststart, "poststart", hook_state(rec, Status::kRunning));
  return {};
}

base::Result<int> run_container(const CreateOptions& o, bool detach) {
  ContainerRecord rec = TRY(create_impl(o));
  if (auto s = start_container(o.root, o.id); !s) {
    (void)delete_container(o.root, o.id, true);
    return base::fail(std::move(s).error());
  }
  if (detach) return 0;
  int status = wait_forwarding_signals(rec.pid);
  (void)delete_container(o.root, o.id, true);
  return status;
}

base::Status kill_container(const std::string& root, const std::string& id, int signal, bool all) {
  ContainerRecord rec =
      TRY(require_status(root, id, {Status::kCreated, Status::kRunning, Status::kPaused}, "kill"));
  if (all) {
    auto cg = TRY(Cgroup::from_json(rec.cgroup));
    for (pid_t p : cg.pids()) (void)base::sys::kill(p, signal);
    if (signal == SIGKILL && cg.frozen()) (void)cg.freeze(false);
    return {};
  }
  auto pidfd = base::sys::pidfd_open(rec.pid);
  if (!pidfd || !init_alive(rec))
    return base::fail_msg(fmt::format("container {} is not running", id));
  return base::sys::pidfd_send_signal(pidfd->get(), signal, fmt::format("container {}", id));
}

base::Status delete_container(const std::string& root, const std::string& id, bool force) {
  ContainerRecord rec = TRY(load_record(root, id));
  Status s = current_status(root, rec);
  if ((s == Status::kRunning || s == Status::kPaused) && !force)
    return base::fail_msg(
        fmt::format("cannot delete container {}: it is {} (stop it first, or use --force)", id,
                    status_name(s)));
  auto cg = Cgroup::from_json(rec.cgroup);
  if (s != Status::kStopped) {
    if (cg) {
      for (pid_t p : cg->pids()) (void)base::sys::kill(p, SIGKILL);
      if (cg->frozen()) (void)cg->freeze(false);
    }
    if (init_alive(rec)) (void)base::sys::kill(rec.pid, SIGKILL);
    for (int i = 0; i < 2000 && init_alive(rec); ++i) {
      if (auto reaped = base::sys::waitpid(rec.pid, true); reaped && *reaped) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (cg) TRY_STATUS(cg->destroy());
  if (!rec.shared_mount_ns.empty())
    TRY_STATUS(release_shared_rootfs(rec.shared_mount_ns, rec.rootfs));
  if (rec.has_poststop_hooks) {
    if (auto config = recorded_config(root, id))
      run_hooks_warning_only(config->hooks.poststop, "poststop", hook_state(rec, Status::kStopped));
  }
  remove_dir(container_dir(root, id));
  return {};
}

base::Status pause_container(const std::string& root, const std::string& id, bool pause) {
  ContainerRecord rec = TRY(require_status(root, id, {pause ? Status::kRunning : Status::kPaused},
                                           pause ? "pause" : "resume"));
  auto cg = TRY(Cgroup::from_json(rec.cgroup));
  return cg.freeze(pause);
}

base::Status update_container(const std::string& root, const std::string& id, const Resources& r) {
  ContainerRecord rec = TRY(
      require_status(root, id, {Status::kCreated, Status::kRunning, Status::kPaused}, "update"));
  auto cg = TRY(Cgroup::from_json(rec.cgroup));
  return cg.apply(r, false);
}

base::Result<std::vector<pid_t>> container_pids(const std::string& root, const std::string& id) {
  ContainerRecord rec = TRY(load_record(root, id));
  auto cg = TRY(Cgroup::from_json(rec.cgroup));
  return cg.pids();
}

base::Result<nlohmann::json> container_stats(const std::string& root, const std::string& id) {
  ContainerRecord rec = TRY(require_status(
      root, id, {Status::kCreated, Status::kRunning, Status::kPaused}, "read stats of"));
  auto cg = TRY(Cgroup::from_json(rec.cgroup));
  return nlohmann::json{{"type", "stats"}, {"id", id}, {"data", cg.stats()}};
}

base::Result<nlohmann::json> container_state(const std::string& root, const std::string& id) {
  ContainerRecord rec = TRY(load_record(root, id));
  return state_json(rec, current_status(root, rec));
}

}  // namespace oci
