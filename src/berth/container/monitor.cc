#include "berth/container/monitor.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "base/child_process.h"
#include "base/dirs.h"
#include "base/fault_injection.h"
#include "base/file_lock.h"
#include "base/sys.h"
#include "base/timestamp.h"
#include "berth/container/attach_point.h"
#include "berth/container/container_handle.h"
#include "berth/container/container_record.h"
#include "berth/container/container_resources.h"
#include "berth/container/container_stdio.h"
#include "berth/container/events.h"
#include "berth/container/health.h"
#include "berth/container/log_files.h"
#include "berth/container/terminal.h"
#include "berth/container/volumes.h"
#include "oci/cgroup.h"
#include "oci/lifecycle.h"
#include "oci/sync_socket.h"
#include "oci/wait_forwarding.h"

namespace berth {
namespace {

// Docker's limit: a longer line is logged in pieces of this size, so a
// container printing one endless line costs the engine (and `logs`) no more.
constexpr size_t kMaxLogLine = size_t{16} * 1024;

// Appends complete lines from `pending` to the log, in pieces of at most
// kMaxLogLine; keeps a partial last line (all of it with `flush`).
void log_lines(LogWriter& log, const char* stream, std::string& pending, bool flush) {
  size_t start = 0;
  for (;;) {
    size_t nl = pending.find('\n', start);
    size_t end = nl == std::string::npos ? pending.size() : nl + 1;
    if (end - start > kMaxLogLine) end = start + kMaxLogLine;
    bool whole = nl != std::string::npos && end == nl + 1;
    if (!whole && end - start < kMaxLogLine && !(flush && start < pending.size())) break;
    // Bytes that are not UTF-8 become U+FFFD rather than an exception.
    std::string line = nlohmann::json{{"stream", stream},
                                      {"time", base::now_rfc3339()},
                                      {"log", pending.substr(start, end - start)}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";
    log.append(line);
    start = end;
  }
  pending.erase(0, start);
}

enum class Echo { kCopied, kReaderGone, kGaveUp };

// Copies output to an attached berth's stream `fd` without ever hanging the
// monitor on a reader that stopped reading: it waits for room (the
// container waits with it, as behind any pipe) only while the container
// runs; once `exited` (its pidfd; -1: none) is readable, what the reader
// has not taken is dropped (it is in the log).
Echo echo_out(int fd, const char* data, size_t n, int exited) {
  while (n > 0) {
    struct pollfd fds[2] = {{fd, POLLOUT, 0}, {exited, POLLIN, 0}};
    if (!base::sys::poll(fds, -1)) return Echo::kReaderGone;
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return Echo::kReaderGone;
    if (fds[0].revents & POLLOUT) {
      // At most PIPE_BUF: a pipe that polls writable takes that much at once.
      auto wrote = base::sys::write(fd, data, std::min<size_t>(n, PIPE_BUF));
      if (!wrote) return Echo::kReaderGone;
      data += *wrote;
      n -= *wrote;
    } else if (fds[1].revents & POLLIN) {
      return Echo::kGaveUp;
    }
  }
  return Echo::kCopied;
}

// Whether the restart policy asks for another run after `code`.
bool should_restart(const ContainerRecord& rec, int code) {
  if (rec.stop_requested || rec.auto_remove) return false;
  if (rec.restart == "always") return true;
  return rec.restart == "on-failure" && code != 0 &&
         (rec.restart_max == 0 || rec.restart_count < rec.restart_max);
}

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& o)
      : o_(o), dir_(container_dir(o.root, o.id)), channel_(o.channel) {}
  int run();

 private:
  // One life of the container: its exit status, or why it never ran.
  base::Result<int> life(bool tty, bool interactive);
  base::Result<int> life_with_pipes(bool interactive);
  base::Result<int> life_with_tty(bool interactive);
  // What feeds the container's stdin with -i: an attached berth's stdin,
  // else attach clients (attach_point.h); -1 without -i.
  int input_for(bool interactive) const;
  // A life ended with `code`: OOM noted (from `cgroup`, the runtime's
  // record of the container's cgroup), attach clients told.
  int ended(int code, const nlohmann::json& cgroup);
  // Starts the created container `pid` and has it recorded running: the
  // first time by berth (the "running"/"go" exchange), later by us.
  base::Status begin(pid_t pid);
  // Kills and reaps a container that must not run on.
  static void kill_container(pid_t pid);
  // The end: takes back what the container held, records `code` (or
  // deletes a --rm container), tells an attached berth. `handle` is the
  // container's lock (or why it could not be taken).
  int finish(int code, const std::string& error, base::Result<ContainerHandle> handle);
  // finish() under a lock taken now.
  int finish(int code, const std::string& error);
  void tell(const std::string& kind, const std::string& body);

  MonitorOptions o_;
  std::string dir_;
  base::UniqueFd channel_;
  bool told_running_ = false;          // "running" was sent
  bool owned_ = false;                 // berth said "go": the root and network are ours
  bool exit_told_ = false;             // an attached berth has its "exit"
  bool oom_killed_ = false;            // the last life ended by the OOM killer
  LogLimits log_limits_;               // --log-opt: when the log rotates
  std::optional<AttachPoint> attach_;  // `berth attach` clients (none if it failed)
};

void Monitor::tell(const std::string& kind, const std::string& body) {
  if (channel_) (void)oci::send_message(channel_.get(), kind, body);
}

void Monitor::kill_container(pid_t pid) {
  (void)base::sys::kill(pid, SIGKILL);
  (void)base::sys::waitpid(pid, false);
}

base::Status Monitor::begin(pid_t pid) {
  oci::forward_signals_to(pid);
  TRY_STATUS(base::inject("monitor.start"));
  TRY_STATUS(oci::start_container(o_.run_root, o_.id));
  if (!told_running_) {
    told_running_ = true;
    tell("running", fmt::format("{} {}", pid, ::getpid()));
    auto answer = oci::receive_message(channel_.get());
    if (!answer || answer->first != "go")
      return base::fail_msg("the berth command that started it did not record it");
    owned_ = true;
    if (!o_.attach) channel_.reset();  // nothing more to say: berth has gone on
    return {};
  }
  auto h = TRY(ContainerHandle::lock(o_.root, o_.id));
  h.record().state = "running";
  h.record().pid = pid;
  return h.save();
}

base::Result<int> Monitor::life_with_tty(bool interactive) {
  TRY_STATUS(base::make_dirs(o_.run_root));
  std::string sock = fmt::format("{}/c-{}.sock", o_.run_root, o_.id.substr(0, 12));
  base::UniqueFd listener = TRY(listen_console(sock));
  LogWriter log = TRY(LogWriter::open(dir_, log_limits_));
  oci::CreateOptions create;
  create.root = o_.run_root;
  create.id = o_.id;
  create.bundle = dir_ + "/bundle";
  create.console_socket = sock;
  TRY_STATUS(base::inject("monitor.create"));
  auto made = oci::create_container(create);
  (void)base::sys::unlinkat(AT_FDCWD, sock, 0);
  if (!made) return base::fail(std::move(made).error());
  auto master = receive_console_master(listener.get());
  if (!master) {
    kill_container(made->pid);
    return base::fail(std::move(master).error());
  }
  listener.reset();
  if (o_.attach) copy_window_size(0, master->get());
  if (attach_) attach_->set_terminal(master->get());
  if (auto s = begin(made->pid); !s) {
    kill_container(made->pid);
    return base::fail(std::move(s).error());
  }
  std::string pending;
  auto exited = base::sys::pidfd_open(made->pid);
  bool echo = o_.attach;
  relay_terminal(
      master->get(), input_for(interactive), o_.attach,
      [&](const char* data, size_t n) {
        if (attach_) attach_->broadcast(attach::Kind::kStdout, data, n);
        if (echo) {
          Echo e = echo_out(1, data, n, exited ? exited->get() : -1);
          echo = e == Echo::kCopied;
          if (e == Echo::kReaderGone) {  // as without -t: 141, and it runs on
            tell("exit", std::to_string(128 + SIGPIPE));
            exit_told_ = true;
          }
        }
        pending.append(data, n);
        log_lines(log, "stdout", pending, false);
      },
      attach_ ? &*attach_ : nullptr);
  log_lines(log, "stdout", pending, true);
  if (attach_) attach_->set_terminal(-1);
  int status = TRY(base::sys::waitpid(made->pid, false)).value_or(0);
  return ended(oci::exit_status_of(status), made->cgroup);
}

base::Result<int> Monitor::life_with_pipes(bool interactive) {
  ContainerStdio stdio = TRY(ContainerStdio::make(interactive));
  LogWriter log = TRY(LogWriter::open(dir_, log_limits_));
  oci::CreateOptions create;
  create.root = o_.run_root;
  create.id = o_.id;
  create.bundle = dir_ + "/bundle";
  create.stdio = stdio.container_ends();
  TRY_STATUS(base::inject("monitor.create"));
  auto made = TRY(oci::create_container(create));
  stdio.close_container_ends();
  auto exited = base::sys::pidfd_open(made.pid);
  if (auto s = begin(made.pid); !s) {
    kill_container(made.pid);
    return base::fail(std::move(s).error());
  }
  std::string pending[2];
  const char* streams[2] = {"stdout", "stderr"};
  bool echo = o_.attach;
  stdio.relay(
      input_for(interactive), exited ? exited->get() : -1,
      [&](int stream, const char* data, size_t n) {
        if (attach_)
          attach_->broadcast(stream == 1 ? attach::Kind::kStdout : attach::Kind::kStderr, data, n);
        std::string& p = pending[stream - 1];
        p.append(data, n);
        log_lines(log, streams[stream - 1], p, false);
        // Attached, a reader that went away (`berth run IMG yes | head`)
        // ends the attachment as SIGPIPE ends docker's client: `berth
        // run` returns 141 and the container runs on, logged, as if
        // detached (its init, pid 1, would ignore a SIGPIPE anyway).
        if (!echo) return true;
        Echo e = echo_out(stream, data, n, exited ? exited->get() : -1);
        echo = e == Echo::kCopied;
        if (e == Echo::kReaderGone) {
          tell("exit", std::to_string(128 + SIGPIPE));
          exit_told_ = true;
        }
        return true;
      },
      attach_ ? &*attach_ : nullptr);
  for (int i = 0; i < 2; ++i) log_lines(log, streams[i], pending[i], true);
  int status = TRY(base::sys::waitpid(made.pid, false)).value_or(0);
  return ended(oci::exit_status_of(status), made.cgroup);
}

int Monitor::input_for(bool interactive) const {
  if (!interactive) return -1;
  if (o_.attach) return 0;
  return attach_ ? attach_->input_fd() : -1;
}

int Monitor::ended(int code, const nlohmann::json& cgroup) {
  auto cg = oci::Cgroup::from_json(cgroup);
  oom_killed_ = cg && cg->oom_kills() > 0;
  if (attach_) attach_->end_life(code);
  return code;
}

base::Result<int> Monitor::life(bool tty, bool interactive) {
  return tty ? life_with_tty(interactive) : life_with_pipes(interactive);
}

int Monitor::finish(int code, const std::string& error) {
  return finish(code, error, ContainerHandle::lock(o_.root, o_.id));
}

int Monitor::finish(int code, const std::string& error, base::Result<ContainerHandle> handle) {
  attach_.reset();  // no attachment from now on
  Paths p{o_.root, o_.run_root};
  // Whatever else happens, the berth command that waits hears the end.
  auto tell_end = [&] {
    if (exit_told_) return;
    exit_told_ = true;
    if (error.empty())
      tell("exit", std::to_string(code) + (oom_killed_ ? " oom" : ""));
    else
      tell("error", error);
  };
  std::string trash;
  // A start berth never recorded (it failed or died before "go") leaves
  // the record as it was: only what the container held is taken back.
  if (handle && owned_) {
    ContainerRecord& rec = handle->record();
    rec.state = "exited";
    rec.exit_code = code;
    rec.oom_killed = oom_killed_;
    rec.pid = 0;
    rec.finished = base::now_rfc3339();
    record_container_event(o_.root, rec, "die", {{"exitCode", std::to_string(code)}});
    if (rec.auto_remove) {
      // Out of sight at once (a rename), so `berth run --rm` can return;
      // the files go after the exit status is out.
      std::string to = containers_dir(o_.root) + "/.removing-" + o_.id;
      if (base::sys::renameat(AT_FDCWD, dir_, AT_FDCWD, to)) {
        trash = to;
        record_container_event(o_.root, rec, "destroy");
        // Gone before `run --rm` returns, as docker's are (none: no cost).
        remove_anonymous_volumes(o_.root, rec.mounts);
      }
    } else {
      (void)handle->save();
    }
  }
  tell_end();
  // After the report: deleting the runtime's cgroups, unmounting the root
  // (an RCU grace period) and deleting a veth (~20 ms) all wait for the
  // kernel, and `berth run` need not wait for them. The lock is still held, so a new start of this
  // container, a listing that finds its root mounted, an rm or a cp wait
  // for both. (A renamed --rm directory keeps its mount: it moves with it.)
  (void)release_runtime(p, o_.id);
  (void)release_root(trash.empty() ? dir_ : trash);
  (void)release_network(p, o_.id);
  if (!trash.empty()) (void)base::remove_tree(trash);
  return code;
}

int Monitor::run() {
  auto life_lock = base::LifeLock::take(monitor_lock_path(dir_), "the container's monitor lock");
  if (!life_lock) {
    tell("error", life_lock.error().message());
    return 125;
  }
  // The attach socket goes before the lock does, on every way out: a
  // monitor started after us must never find its own socket unlinked.
  struct CloseAttach {
    std::optional<AttachPoint>& point;
    ~CloseAttach() { point.reset(); }
  } close_attach{attach_};
  auto first = load_container(o_.root, o_.id);
  bool tty = first && first->tty;
  if (first) {
    // Checked by run; a record changed since is read as far as it is valid.
    auto opts = first->host_config.value("LogConfig", nlohmann::json::object())
                    .value("Config", nlohmann::json::object());
    std::map<std::string, std::string> given;
    for (const auto& [k, v] : opts.items())
      if (v.is_string()) given[k] = v.get<std::string>();
    log_limits_ = parse_log_options(given).value_or(LogLimits{});
  }
  bool interactive = first && first->interactive;
  // Without it the container still runs; only `berth attach` is refused.
  if (auto point = AttachPoint::listen(dir_, interactive && !o_.attach))
    attach_ = std::move(*point);
  auto backoff = std::chrono::milliseconds(100);  // doubled per restart, as docker does
  nlohmann::json healthcheck =
      first ? first->config.value("Healthcheck", nlohmann::json()) : nlohmann::json();
  for (;;) {
    // The health checker lives as long as this life of the container.
    std::optional<base::ChildProcess> checker;
    if (has_health_checks(healthcheck)) {
      auto forked = base::ChildProcess::fork([&] {
        // Nothing of the monitor's but what it needs: no channel, no stdio.
        if (!base::sys::close_range(3, ~0U, 0)) return 125;
        auto null_fd = base::sys::open("/dev/null", O_RDWR);
        if (!null_fd) return 125;
        for (int fd = 0; fd < 3; ++fd) (void)base::sys::dup2(null_fd->get(), fd);
        return run_health_checks({o_.root, o_.run_root}, o_.id, dir_, healthcheck);
      });
      if (forked) checker.emplace(std::move(*forked));
    }
    auto code = life(tty, interactive);
    checker.reset();
    if (!code && !owned_) {
      // It never ran as berth knows it. Berth's guards undo the root and
      // network if berth is still there; if it is gone, so is the lock it
      // held, and finish() takes everything back.
      (void)release_runtime({o_.root, o_.run_root}, o_.id);
      if (!told_running_) {
        tell("error", code.error().message());
        return 125;
      }
      return finish(125, "");
    }
    if (!code) return finish(125, code.error().message());
    {
      auto h = ContainerHandle::lock(o_.root, o_.id);
      if (!h || !should_restart(h->record(), *code)) return finish(*code, "", std::move(h));
      (void)release_runtime({o_.root, o_.run_root}, o_.id);
      h->record().restart_count++;
      h->record().exit_code = *code;
      (void)h->save();
    }  // the lock is dropped for the wait: finish() takes it anew
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    if (auto again = load_container(o_.root, o_.id); !again || again->stop_requested)
      return finish(*code, "");
  }
}

}  // namespace

int run_monitor(const MonitorOptions& o) {
  // It runs in a forked copy of berth: an exception must end it here, not
  // unwind into the code of the berth command it was forked from.
  try {
    return Monitor(o).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth: container %s: monitor: %s\n", o.id.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "berth: container %s: monitor: unknown exception\n", o.id.c_str());
  }
  return 125;
}

}  // namespace berth
