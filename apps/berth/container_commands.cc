// Container commands: run, ps, logs, stop, rm.
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/units.h"
#include "berth/containers.h"
#include "oci/exec_process.h"
#include "oci/lifecycle.h"
#include "oci/names.h"

namespace berth_cli {

void add_container_commands(CLI::App& app, Globals& g) {
  static berth::RunOptions o;
  static std::string entrypoint, memory;
  static std::vector<std::string> words;
  auto* run = app.add_subcommand("run", "run a command in a new container");
  run->add_flag("-d,--detach", o.detach, "run in the background and print the id");
  run->add_flag("--rm", o.remove, "remove the container when it exits");
  run->add_option("--name", o.name, "a name for the container");
  run->add_option("-e,--env", o.env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  run->add_option("-v,--volume", o.volumes, "HOST:CONTAINER[:ro] (repeatable)")
      ->allow_extra_args(false);
  run->add_option("-w,--workdir", o.workdir, "working directory inside");
  run->add_option("-u,--user", o.user, "UID[:GID]");
  run->add_option("--entrypoint", entrypoint, "replace the image's entrypoint");
  run->add_option("--hostname", o.hostname, "the container's hostname");
  run->add_option("-m,--memory", memory, "memory limit (e.g. 64m, 1g)");
  run->add_option("--cpus", o.cpus, "CPUs (e.g. 0.5)");
  run->add_option("--pids-limit", o.pids_limit, "maximum number of processes");
  run->add_flag("--read-only", o.read_only, "read-only root filesystem");
  run->add_option("--network", o.network, "none (default) or host");
  run->add_option("image", o.image, "image")->required();
  run->prefix_command();  // everything after the image is the command
  run->callback([&g, run] {
    o.command = run->remaining();
    if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
    if (run->count("--entrypoint")) o.entrypoint = entrypoint;
    if (!memory.empty()) {
      auto bytes = base::units::parse_size(memory);
      if (!bytes)
        return fail(g,
                    base::Error::msg(fmt::format("--memory '{}': not a size such as 64m", memory)));
      o.memory = static_cast<int64_t>(*bytes);
    }
    std::string id;
    auto r = berth::run_container({g.root, g.run_root}, o, &id);
    if (!r) {
      g.exit_code = 125;
      std::fprintf(stderr, "berth: %s\n", r.error().message().c_str());
      return;
    }
    if (o.detach) std::printf("%s\n", id.c_str());
    g.exit_code = *r;
  });

  static bool all = false, quiet = false;
  auto* ps = app.add_subcommand("ps", "list containers");
  ps->add_flag("-a,--all", all, "include exited ones");
  ps->add_flag("-q,--quiet", quiet, "ids only");
  ps->callback([&g] {
    auto list = berth::containers({g.root, g.run_root});
    if (!quiet)
      std::printf("%-14s %-28s %-24s %-22s %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "STATUS",
                  "NAMES");
    for (const auto& c : list) {
      if (!all && c.state != "running") continue;
      if (quiet) {
        std::printf("%s\n", c.id.substr(0, 12).c_str());
        continue;
      }
      std::string cmd;
      for (const auto& w : c.command) cmd += (cmd.empty() ? "" : " ") + w;
      if (cmd.size() > 22) cmd = cmd.substr(0, 19) + "...";
      std::string status = c.state == "exited"    ? fmt::format("Exited ({})", c.exit_code)
                           : c.state == "running" ? "Up"
                                                  : c.state;
      std::printf("%-14s %-28s %-24s %-22s %s\n", c.id.substr(0, 12).c_str(), c.image.c_str(),
                  ("\"" + cmd + "\"").c_str(), status.c_str(), c.name.c_str());
    }
  });

  static std::string target;
  static int timeout = 10;
  static bool force = false;
  auto* logs = app.add_subcommand("logs", "print a container's output");
  logs->add_option("container", target, "id or name")->required();
  logs->callback([&g] {
    auto lines = berth::read_logs({g.root, g.run_root}, target);
    if (!lines) return fail(g, lines.error());
    for (const auto& [stream, text] : *lines)
      std::fputs(text.c_str(), stream == "stderr" ? stderr : stdout);
  });
  auto* stop =
      app.add_subcommand("stop", "stop a container: SIGTERM, then SIGKILL after the timeout");
  stop->add_option("-t,--time", timeout, "seconds to wait before SIGKILL");
  stop->add_option("containers", words, "ids or names")->required();
  stop->callback([&g] {
    for (const auto& w : words) {
      if (auto s = berth::stop_container({g.root, g.run_root}, w, timeout); !s)
        fail(g, s.error());
      else
        std::printf("%s\n", w.c_str());
    }
  });
  auto* rm = app.add_subcommand("rm", "remove containers");
  rm->add_flag("-f,--force", force, "stop running ones first");
  rm->add_option("containers", words, "ids or names")->required();
  rm->callback([&g] {
    for (const auto& w : words) {
      if (auto s = berth::remove_container({g.root, g.run_root}, w, force); !s)
        fail(g, s.error());
      else
        std::printf("%s\n", w.c_str());
    }
  });
}

}  // namespace berth_cli

namespace berth_cli {

void add_container_control_commands(CLI::App& app, Globals& g) {
  static std::string target, signal_name = "KILL", workdir, user;
  static std::vector<std::string> env;
  auto* exec = app.add_subcommand("exec", "run another command in a running container");
  exec->add_option("-e,--env", env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  exec->add_option("-w,--workdir", workdir, "working directory inside");
  exec->add_option("-u,--user", user, "UID[:GID]");
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
