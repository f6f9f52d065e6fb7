// Commands on a running container: exec (-i, -t), kill, wait.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/text_file.h"
#include "berth/containers.h"
#include "berth/terminal.h"
#include "oci/exec_process.h"
#include "oci/lifecycle.h"
#include "oci/names.h"
#include "oci/wait_forwarding.h"

namespace berth_cli {

namespace {

// exec -t: the runtime sends the new process's pty master to a console socket
// of ours; we relay it to our terminal until the process is done.
base::Result<int> exec_on_terminal(Globals& g, oci::ExecOptions o, bool interactive) {
  std::string sock = fmt::format("{}/e-{}-{}.sock", g.run_root, o.id.substr(0, 12), ::getpid());
  base::UniqueFd listener = TRY(berth::listen_console(sock));
  o.tty = true;
  o.console_socket = sock;
  o.detach = true;  // started, not waited for: we wait once the relay ends
  o.pid_file = sock + ".pid";
  winsize ws{};  // the size the command starts with: ours
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) {
    o.console_height = ws.ws_row;
    o.console_width = ws.ws_col;
  }
  auto started = oci::exec_in_container(o);
  ::unlink(sock.c_str());
  std::string pid_text = base::read_text(o.pid_file).value_or("");
  ::unlink(o.pid_file.c_str());
  if (!started) return base::fail(std::move(started).error());
  pid_t pid = std::atoi(pid_text.c_str());
  auto received = berth::receive_console_master(listener.get());
  if (!received) {  // no terminal to relay: the command must not run unseen
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return base::fail(std::move(received).error());
  }
  base::UniqueFd master = std::move(*received);
  listener.reset();
  oci::forward_signals_to(pid);
  berth::copy_window_size(0, master.get());
  berth::relay_terminal(master.get(), interactive, true,
                        [](const char* data, size_t n) { (void)!::write(1, data, n); });
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return oci::exit_status_of(status);
}

}  // namespace

void add_container_control_commands(CLI::App& app, Globals& g) {
  static std::string target, signal_name = "KILL", workdir, user;
  static std::vector<std::string> env;
  auto* exec = app.add_subcommand("exec", "run another command in a running container");
  exec->add_option("-e,--env", env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  exec->add_option("-w,--workdir", workdir, "working directory inside");
  exec->add_option("-u,--user", user, "UID[:GID]");
  static bool interactive = false, tty = false;
  exec->add_flag("-i,--interactive", interactive, "give the command our standard input");
  exec->add_flag("-t,--tty", tty, "run it on a terminal (with -i: ours, raw, resized)");
  exec->add_option("container", target, "id or name")->required();
  exec->prefix_command();
  exec->callback([&g, exec] {
    (void)berth::containers({g.root, g.run_root});  // marks records of dead monitors exited
    auto rec = berth::find_container(g.root, target);
    if (!rec) return fail(g, rec.error());
    if (rec->state != "running")
      return fail(g, base::Error::msg(fmt::format("container {} is not running (it is {})", target,
                                                  rec->state)));
    oci::ExecOptions o;
    o.root = g.run_root;
    o.id = rec->id;
    o.args = exec->remaining();
    o.env = env;
    o.cwd = workdir;
    o.user = user;
    if (tty) {
      auto code = exec_on_terminal(g, o, interactive);
      if (!code) {
        std::fprintf(stderr, "berth: %s\n", code.error().message().c_str());
        g.exit_code = 126;
        return;
      }
      g.exit_code = *code;
      return;
    }
    if (!interactive) {  // as docker: without -i the command reads nothing
      int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      ::dup2(null_fd, 0);
      ::close(null_fd);
    }
    auto r = oci::exec_in_container(o);
    if (!r) {
      std::fprintf(stderr, "berth: %s\n", r.error().message().c_str());
      g.exit_code = 126;
      return;
    }
    g.exit_code = *r;
  });

  auto* kill = app.add_subcommand("kill", "send a signal to a container");
  kill->add_option("-s,--signal", signal_name, "signal name or number");
  kill->add_option("container", target, "id or name")->required();
  kill->callback([&g] {
    auto rec = berth::find_container(g.root, target);
    if (!rec) return fail(g, rec.error());
    auto sig = oci::signal_from_name(signal_name);
    if (!sig) return fail(g, sig.error());
    // Killed on purpose: the restart policy does not bring it back.
    if (*sig == SIGKILL || *sig == SIGTERM || *sig == SIGINT)
      (void)berth::request_stop({g.root, g.run_root}, rec->id);
    if (auto s = oci::kill_container(g.run_root, rec->id, *sig, false); !s)
      return fail(g, s.error());
    std::printf("%s\n", target.c_str());
  });

  auto* wait = app.add_subcommand("wait", "wait for a container to exit; print its exit status");
  wait->add_option("container", target, "id or name")->required();
  wait->callback([&g] {
    for (;;) {
      (void)berth::containers({g.root, g.run_root});  // marks records of dead monitors exited
      auto rec = berth::find_container(g.root, target);
      if (!rec) return fail(g, rec.error());
      if (rec->state != "running") {
        std::printf("%d\n", rec->exit_code);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

}  // namespace berth_cli
