// exec [--process F | ID ARGS...] [--detach] [--pid-file F] [--tty --console-socket S]
//      [--cwd D] [--env K=V]... [--user UID[:GID]] [--cap CAP]... [--no-new-privs] [--preserve-fds N] ID [ARGS...]
#include "apps/berth-oci/commands.h"
#include "oci/exec_process.h"

namespace berth_oci {

void add_exec(CLI::App& app, Globals& g) {
  static oci::ExecOptions o;
  static std::vector<std::string> positional;
  auto* cmd = app.add_subcommand("exec", "run another process in a running container");
  cmd->add_option("-p,--process", o.process_file, "a runtime-spec process JSON file");
  cmd->add_flag("-d,--detach", o.detach, "return once started");
  cmd->add_option("--pid-file", o.pid_file, "write the new process's pid here");
  cmd->add_flag("-t,--tty", o.tty, "give the process a terminal (needs --console-socket)");
  cmd->add_option("--console-socket", o.console_socket, "unix socket that receives the pty master");
  cmd->add_option("--cwd", o.cwd, "working directory in the container");
  cmd->add_option("-e,--env", o.env, "NAME=VALUE (repeatable)");
  cmd->add_option("-u,--user", o.user, "UID[:GID]");
  cmd->add_option("-g,--additional-gids", o.additional_gids, "extra group ids");
  cmd->add_option("-c,--cap", o.add_caps, "add a capability (repeatable)");
  cmd->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs");
  cmd->add_option("--preserve-fds", o.preserve_fds, "pass N fds after stdio")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--process-label,--apparmor", "accepted; no LSM support")->allow_extra_args(false);
  cmd->add_option("args", positional, "ID, then the command and its arguments")->required();
  cmd->prefix_command();
  cmd->callback([&g, cmd] {
    std::vector<std::string> all = positional;
    for (const auto& r : cmd->remaining()) all.push_back(r);
    if (!all.empty() && all.front() == "--") all.erase(all.begin());
    o.id = all.front();
    o.args.assign(all.begin() + 1, all.end());
    if (!o.args.empty() && o.args.front() == "--") o.args.erase(o.args.begin());
    o.root = g.root;
    auto r = oci::exec_in_container(o);
    if (!r) return fail(g, r.error());
    g.exit_code = *r;
  });
}

}  // namespace berth_oci
