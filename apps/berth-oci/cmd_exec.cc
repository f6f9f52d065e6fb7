// exec [--process F | ID ARGS...] [--detach] [--pid-file F] [--tty --console-socket S]
//      [--cwd D] [--env K=V]... [--user UID[:GID]] [--cap CAP]... [--no-new-privs] [--preserve-fds
//      N] ID [ARGS...]
#include "apps/berth-oci/commands.h"
#include "oci/exec_process.h"

namespace berth_oci {

void add_exec(CLI::App& app, Globals& g) {
  static oci::ExecOptions o;
  static std::string id;
  auto* cmd = app.add_subcommand("exec", "run another process in a running container");
  cmd->add_option("-p,--process", o.process_file, "a runtime-spec process JSON file");
  cmd->add_flag("-d,--detach", o.detach, "return once started");
  cmd->add_option("--pid-file", o.pid_file, "write the new process's pid here");
  cmd->add_flag("-t,--tty", o.tty, "give the process a terminal (needs --console-socket)");
  cmd->add_option("--console-socket", o.console_socket, "unix socket that receives the pty master");
  cmd->add_option("--cwd", o.cwd, "working directory in the container");
  cmd->add_option("-e,--env", o.env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  cmd->add_option("-u,--user", o.user, "UID[:GID]");
  cmd->add_option("-g,--additional-gids", o.additional_gids, "extra group ids")
      ->allow_extra_args(false);
  cmd->add_option("-c,--cap", o.add_caps, "add a capability (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs");
  cmd->add_option("--preserve-fds", o.preserve_fds, "pass N fds after stdio")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--process-label,--apparmor", "accepted; no LSM support")
      ->allow_extra_args(false);
  cmd->add_option("id", id, "container id, then the command and its arguments")->required();
  cmd->prefix_command();  // everything after the id is the command, options included
  cmd->callback([&g, cmd] {
    o.id = id;
    o.args = cmd->remaining();
    if (!o.args.empty() && o.args.front() == "--") o.args.erase(o.args.begin());
    o.root = g.root;
    auto r = oci::exec_in_container(o);
    if (!r) return fail(g, r.error());
    g.exit_code = *r;
  });
}

}  // namespace berth_oci
