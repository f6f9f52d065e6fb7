// Commands on a container: exec (-i, -t), kill, pause, unpause, rename, wait.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "berth/container/container_exec.h"
#include "berth/container/containers.h"
#include "oci/lifecycle.h"
#include "oci/names.h"

namespace berth_cli {

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
    berth::ExecRequest r;
    r.args = exec->remaining();
    r.env = env;
    r.cwd = workdir;
    r.user = user;
    r.interactive = interactive;
    r.tty = tty;
    auto code = berth::exec_in_container({g.root, g.run_root}, target, r);
    if (!code) {
      std::fprintf(stderr, "berth: %s\n", code.error().message().c_str());
      g.exit_code = 126;
      return;
    }
    g.exit_code = *code;
  });

  static std::vector<std::string> targets;
  auto* kill = app.add_subcommand("kill", "send a signal to containers");
  kill->add_option("-s,--signal", signal_name, "signal name or number");
  kill->add_option("containers", targets, "ids or names")->required();
  kill->callback([&g] {
    auto sig = oci::signal_from_name(signal_name);
    if (!sig) return fail(g, sig.error());
    for (const auto& t : targets) {
      auto rec = berth::find_container(g.root, t);
      if (!rec) {
        fail(g, rec.error());
        continue;
      }
      // Killed on purpose: the restart policy does not bring it back.
      if (*sig == SIGKILL || *sig == SIGTERM || *sig == SIGINT)
        (void)berth::request_stop({g.root, g.run_root}, rec->id);
      if (auto s = oci::kill_container(g.run_root, rec->id, *sig, false); !s) {
        fail(g, s.error());
        continue;
      }
      std::printf("%s\n", t.c_str());
    }
  });

  for (bool pause : {true, false}) {
    auto* cmd =
        app.add_subcommand(pause ? "pause" : "unpause",
                           pause ? "freeze every process of containers" : "thaw paused containers");
    cmd->add_option("containers", targets, "ids or names")->required();
    cmd->callback([&g, pause] {
      for (const auto& t : targets) {
        if (auto s = berth::pause_container({g.root, g.run_root}, t, pause); !s) {
          fail(g, s.error());
          continue;
        }
        std::printf("%s\n", t.c_str());
      }
    });
  }

  static std::string new_name;
  auto* rename = app.add_subcommand("rename", "give a container another name");
  rename->add_option("container", target, "id or name")->required();
  rename->add_option("new-name", new_name, "the new name")->required();
  rename->callback([&g] {
    if (auto s = berth::rename_container({g.root, g.run_root}, target, new_name); !s)
      fail(g, s.error());
  });

  auto* wait = app.add_subcommand("wait", "wait for containers to exit; print their exit statuses");
  wait->add_option("containers", targets, "ids or names")->required();
  wait->callback([&g] {
    for (const auto& t : targets) {
      auto code = berth::wait_container({g.root, g.run_root}, t);
      if (!code) {
        fail(g, code.error());
        continue;
      }
      std::printf("%d\n", *code);
      std::fflush(stdout);
    }
  });
}

}  // namespace berth_cli
