#include "berth/container/container_exec.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "berth/container/container_record.h"
#include "berth/container/container_stdio.h"
#include "berth/container/terminal.h"
#include "oci/exec_process.h"
#include "oci/wait_forwarding.h"

namespace berth {
namespace {

base::Result<int> reap(pid_t pid) {
  int status = TRY(base::sys::waitpid(pid, false)).value_or(0);
  return oci::exit_status_of(status);
}

// -t: the runtime sends the new process's pty master to a console socket of
// ours; we relay it to our terminal until the process is done.
base::Result<int> exec_on_terminal(const Paths& p, oci::ExecOptions o, bool interactive) {
  std::string sock = fmt::format("{}/e-{}-{}.sock", p.run_root, o.id.substr(0, 12), ::getpid());
  base::UniqueFd listener = TRY(listen_console(sock));
  o.tty = true;
  o.console_socket = sock;
  winsize ws{};  // the size the command starts with: ours
  if (base::sys::ioctl(0, TIOCGWINSZ, &ws, "TIOCGWINSZ")) {
    o.console_height = ws.ws_row;
    o.console_width = ws.ws_col;
  }
  auto started = oci::start_exec_process(o);
  (void)base::sys::unlinkat(AT_FDCWD, sock, 0);
  pid_t pid = TRY(std::move(started));
  auto received = receive_console_master(listener.get());
  if (!received) {  // no terminal to relay: the command must not run unseen
    (void)base::sys::kill(pid, SIGKILL);
    (void)reap(pid);
    return base::fail(std::move(received).error());
  }
  base::UniqueFd master = std::move(*received);
  listener.reset();
  oci::forward_signals_to(pid);
  copy_window_size(0, master.get());
  relay_terminal(master.get(), interactive ? 0 : -1, true,
                 [](const char* data, size_t n) { (void)base::sys::write_all(1, data, n); });
  return reap(pid);
}

// No -t: pipes, relayed until the command is gone.
base::Result<int> exec_on_pipes(oci::ExecOptions o, bool interactive) {
  ContainerStdio stdio = TRY(ContainerStdio::make(interactive));
  o.stdio = stdio.container_ends();
  pid_t pid = TRY(oci::start_exec_process(o));
  stdio.close_container_ends();
  oci::forward_signals_to(pid);
  auto exited = base::sys::pidfd_open(pid);
  stdio.relay(interactive ? 0 : -1, exited ? exited->get() : -1,
              [](int stream, const char* data, size_t n) {
                return base::sys::write_all(stream, data, n).has_value();
              });
  return reap(pid);
}

}  // namespace

base::Result<int> exec_in_container(const Paths& p, const std::string& id_or_name,
                                    const ExecRequest& r) {
  (void)containers(p);  // marks records of dead monitors exited
  ContainerRecord rec = TRY(find_container(p.root, id_or_name));
  if (rec.state != "running")
    return base::fail_msg(
        fmt::format("container {} is not running (it is {})", id_or_name, rec.state));
  oci::ExecOptions o;
  o.root = p.run_root;
  o.id = rec.id;
  o.args = r.args;
  o.env = r.env;
  o.cwd = r.cwd;
  o.user = r.user;
  return r.tty ? exec_on_terminal(p, o, r.interactive) : exec_on_pipes(o, r.interactive);
}

}  // namespace berth
