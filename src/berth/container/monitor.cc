#include "berth/container/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "base/timestamp.h"
#include "base/dirs.h"
#include "base/sys.h"
#include "berth/container/container_network.h"
#include "berth/container/container_record.h"
#include "berth/container/container_stdio.h"
#include "berth/container/terminal.h"
#include "oci/lifecycle.h"
#include "oci/state.h"
#include "oci/wait_forwarding.h"

namespace berth {
namespace {

// Docker's limit: a longer line is logged in pieces of this size, so a
// container printing one endless line costs the engine (and `logs`) no more.
constexpr size_t kMaxLogLine = size_t{16} * 1024;

// Appends complete lines from `pending` to the log, in pieces of at most
// kMaxLogLine; keeps a partial last line (all of it with `flush`).
void log_lines(int log_fd, const char* stream, std::string& pending, bool flush) {
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
    (void)base::sys::write_all(log_fd, line.data(), line.size());
    start = end;
  }
  pending.erase(0, start);
}

// Reports once: the fd is closed and forgotten afterwards.
void report_ready(int& fd, const std::string& text) {
  if (fd < 0) return;
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
  fd = -1;
}

// Marks the container running under this monitor and starts its program;
// tells whoever waits on `ready_fd`. Attached, the fd stays open: the exit
// status follows on it (see finish).
base::Status start_running(const MonitorOptions& o, pid_t pid, int& ready_fd) {
  oci::forward_signals_to(pid);
  if (auto r = load_container(o.root, o.id)) {
    r->state = "running";
    r->pid = pid;
    r->monitor_pid = ::getpid();
    (void)save_container(o.root, *r);
  }
  if (auto s = oci::start_container(o.run_root, o.id); !s) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return s;
  }
  if (o.attach && ready_fd >= 0)
    (void)!::write(ready_fd, "ok\n", 3);
  else
    report_ready(ready_fd, "ok\n");
  return {};
}

// One life of a container with a terminal (-t): the runtime sends the pty
// master over a console socket; its output goes to the log (and to us when
// attached), our stdin to it with -i, and our window size follows the user's.
base::Result<int> run_once_tty(const MonitorOptions& o, const std::string& dir, int& ready_fd,
                               bool interactive) {
  TRY_STATUS(base::make_dirs(o.run_root));
  std::string sock = fmt::format("{}/c-{}.sock", o.run_root, o.id.substr(0, 12));
  base::UniqueFd listener = TRY(listen_console(sock));
  base::UniqueFd log_fd(
      ::open((dir + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  oci::CreateOptions create;
  create.root = o.run_root;
  create.id = o.id;
  create.bundle = dir + "/bundle";
  create.console_socket = sock;
  auto made = oci::create_container(create);
  ::unlink(sock.c_str());
  if (!made) return base::fail(std::move(made).error());
  auto master = receive_console_master(listener.get());
  if (!master) {
    ::kill(made->pid, SIGKILL);
    ::waitpid(made->pid, nullptr, 0);
    return base::fail(std::move(master).error());
  }
  listener.reset();
  if (o.attach) copy_window_size(0, master->get());
  TRY_STATUS(start_running(o, made->pid, ready_fd));
  std::string pending;
  relay_terminal(master->get(), o.attach && interactive, o.attach, [&](const char* data, size_t n) {
    if (o.attach) (void)!::write(1, data, n);
    pending.append(data, n);
    log_lines(log_fd.get(), "stdout", pending, false);
  });
  log_lines(log_fd.get(), "stdout", pending, true);
  int status = 0;
  while (::waitpid(made->pid, &status, 0) < 0 && errno == EINTR) {
  }
  return oci::exit_status_of(status);
}

// Whether the restart policy asks for another run after `code`.
bool should_restart(const ContainerRecord& rec, int code) {
  if (rec.stop_requested || rec.auto_remove) return false;
  if (rec.restart == "always") return true;
  return rec.restart == "on-failure" && code != 0 &&
         (rec.restart_max == 0 || rec.restart_count < rec.restart_max);
}

// One life of the container without a terminal: create it through src/oci
// with pipes of ours as its stdio (container_stdio.h), start it, copy its
// output to the log (and to our stdout/stderr when attached), our stdin into
// it when attached with -i, and reap it. Returns its exit status, or an error
// when it never ran.
base::Result<int> run_once(const MonitorOptions& o, const std::string& dir, int& ready_fd) {
  auto rec = load_container(o.root, o.id);
  bool interactive = rec && rec->interactive;
  ContainerStdio stdio = TRY(ContainerStdio::make(interactive));
  base::UniqueFd log_fd = TRY(base::sys::open(dir + "/log", O_WRONLY | O_CREAT | O_APPEND, 0600));
  oci::CreateOptions create;
  create.root = o.run_root;
  create.id = o.id;
  create.bundle = dir + "/bundle";
  create.stdio = stdio.container_ends();
  auto made = TRY(oci::create_container(create));
  stdio.close_container_ends();
  auto exited = base::sys::pidfd_open(made.pid);
  TRY_STATUS(start_running(o, made.pid, ready_fd));
  std::string pending[2];
  const char* streams[2] = {"stdout", "stderr"};
  bool echo = o.attach;
  stdio.relay(o.attach && interactive ? 0 : -1, exited ? exited->get() : -1,
              [&](int stream, const char* data, size_t n) {
                std::string& p = pending[stream - 1];
                p.append(data, n);
                log_lines(log_fd.get(), streams[stream - 1], p, false);
                // Attached, a reader that went away (`berth run IMG yes | head`)
                // ends the attachment as SIGPIPE ends docker's client: `berth
                // run` returns 141 and the container runs on, logged, as if
                // detached (its init, pid 1, would ignore a SIGPIPE anyway).
                if (echo && !base::sys::write_all(stream, data, n)) {
                  echo = false;
                  report_ready(ready_fd, fmt::format("exit {}\n", 128 + SIGPIPE));
                }
                return true;
              });
  for (int i = 0; i < 2; ++i) log_lines(log_fd.get(), streams[i], pending[i], true);
  int status = TRY(base::sys::waitpid(made.pid, false)).value_or(0);
  return oci::exit_status_of(status);
}

}  // namespace

namespace {

int monitor_container(const MonitorOptions& o) {
  std::string dir = container_dir(o.root, o.id);
  std::string rootfs = dir + "/bundle/rootfs";
  int ready_fd = o.ready_fd;
  bool removing = false;  // --rm: `dir` is to be deleted once the status is reported
  auto finish = [&](int code, const std::string& error) {
    (void)oci::delete_container(o.run_root, o.id, true);
    ::umount2(rootfs.c_str(), MNT_DETACH);
    auto rec = load_container(o.root, o.id);
    if (rec) {
      rec->state = "exited";
      rec->exit_code = code;
      rec->pid = 0;
      rec->finished = base::now_rfc3339();
      if (rec->auto_remove) {
        // Out of sight at once (a rename), so `berth run --rm` can return;
        // the files go after the exit status is out.
        std::string trash = containers_dir(o.root) + "/.removing-" + o.id;
        if (::rename(dir.c_str(), trash.c_str()) == 0) dir = trash;
        removing = true;
      } else {
        (void)save_container(o.root, *rec);
      }
    }
    report_ready(ready_fd, !error.empty() ? error + "\n" : fmt::format("exit {}\n", code));
    // After the report: deleting a veth waits for the kernel (~20 ms), which
    // `berth run` need not wait for.
    (void)detach_network({o.root, o.run_root}, o.id);
    if (removing) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
    return code;
  };
  auto backoff = std::chrono::milliseconds(100);  // doubled per restart, as docker does
  auto first = load_container(o.root, o.id);
  bool tty = first && first->tty;
  bool interactive = first && first->interactive;
  for (;;) {
    auto code = tty ? run_once_tty(o, dir, ready_fd, interactive) : run_once(o, dir, ready_fd);
    if (!code) return finish(125, code.error().message());
    auto rec = load_container(o.root, o.id);
    if (!rec || !should_restart(*rec, *code)) return finish(*code, "");
    (void)oci::delete_container(o.run_root, o.id, true);
    rec->restart_count++;
    rec->exit_code = *code;
    (void)save_container(o.root, *rec);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    if (auto again = load_container(o.root, o.id); again && again->stop_requested)
      return finish(*code, "");
  }
}

}  // namespace

int run_monitor(const MonitorOptions& o) {
  // It runs in a forked copy of berth: an exception must end it here, not
  // unwind into the code of the berth command it was forked from.
  try {
    return monitor_container(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth: container %s: monitor: %s\n", o.id.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "berth: container %s: monitor: unknown exception\n", o.id.c_str());
  }
  return 125;
}

}  // namespace berth
