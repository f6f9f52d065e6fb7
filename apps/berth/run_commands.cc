// Commands that make and start containers: run, create, start.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/units.h"
#include "berth/container/container_spec.h"
#include "berth/container/containers.h"

namespace berth_cli {
namespace {

struct RunFlags {
  berth::RunOptions o;
  std::string entrypoint, memory;
  std::vector<std::string> env_files;
  std::vector<std::string> security_opts;
};

// The options `run` and `create` share.
void add_run_options(CLI::App* cmd, RunFlags& f) {
  auto& o = f.o;
  cmd->add_flag("--rm", o.remove, "remove the container when it exits");
  cmd->add_flag("-i,--interactive", o.interactive, "keep standard input open to the container");
  cmd->add_flag("-t,--tty", o.tty, "give the container a terminal (with -i: yours, raw, resized)");
  cmd->add_option("--name", o.name, "a name for the container");
  cmd->add_option("-e,--env", o.env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  cmd->add_option("--env-file", f.env_files, "a file of NAME=VALUE lines (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-v,--volume", o.volumes, "HOST:CONTAINER[:ro] (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-w,--workdir", o.workdir, "working directory inside");
  cmd->add_option("-u,--user", o.user, "USER[:GROUP], names or numbers");
  cmd->add_option("--security-opt", f.security_opts,
                  "seccomp=unconfined (no default profile), no-new-privileges")
      ->allow_extra_args(false);
  cmd->add_option("--entrypoint", f.entrypoint, "replace the image's entrypoint");
  cmd->add_option("--hostname", o.hostname, "the container's hostname");
  cmd->add_option("-m,--memory", f.memory, "memory limit (e.g. 64m, 1g)");
  cmd->add_option("--cpus", o.cpus, "CPUs (e.g. 0.5)");
  cmd->add_option("--pids-limit", o.pids_limit,
                  "maximum number of processes (default 2048, as podman; -1: none)");
  cmd->add_flag("--read-only", o.read_only, "read-only root filesystem");
  cmd->add_option("--network", o.network,
                  "a bridge network (default berth0), none, host or container:ID")
      ->capture_default_str();
  cmd->add_option("-p,--publish", o.publish, "[HOSTIP:]HOSTPORT:PORT[/udp], or PORT (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("-P,--publish-all", o.publish_all, "publish the image's exposed ports");
  cmd->add_option("--restart", o.restart, "no, on-failure[:N] or always")->capture_default_str();
  cmd->add_option("image", o.image, "image")->required();
  cmd->prefix_command();  // everything after the image is the command
}

// Completes the options after parsing; false (with the error reported) on bad input.
bool finish_options(CLI::App* cmd, RunFlags& f, Globals& g) {
  auto& o = f.o;
  o.command = cmd->remaining();
  if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
  if (cmd->count("--entrypoint")) o.entrypoint = f.entrypoint;
  if (!f.memory.empty()) {
    auto bytes = base::units::parse_size(f.memory);
    if (!bytes) {
      fail(g, base::Error::msg(fmt::format("--memory '{}': not a size such as 64m", f.memory)));
      return false;
    }
    o.memory = static_cast<int64_t>(*bytes);
  }
  if (o.cpus) {
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (!(*o.cpus >= 0.01) || *o.cpus > static_cast<double>(cpus)) {
      fail(g, base::Error::msg(fmt::format(
                  "--cpus {}: must be from 0.01 to {}, the CPUs this host has", *o.cpus, cpus)));
      return false;
    }
  }
  for (const auto& opt : f.security_opts) {
    if (opt == "seccomp=unconfined") {
      o.seccomp = false;
    } else if (opt == "no-new-privileges" || opt == "no-new-privileges=true") {
      o.no_new_privileges = true;
    } else if (opt != "no-new-privileges=false") {
      fail(g, base::Error::msg(fmt::format(
                  "--security-opt '{}': supported are seccomp=unconfined and no-new-privileges",
                  opt)));
      return false;
    }
  }
  std::vector<std::string> env;
  for (const auto& file : f.env_files) {
    auto lines = berth::read_env_file(file);
    if (!lines) {
      fail(g, lines.error());
      return false;
    }
    env.insert(env.end(), lines->begin(), lines->end());
  }
  o.env.insert(o.env.begin(), env.begin(), env.end());  // -e wins over the files
  return true;
}

// An attached container the kernel's OOM killer ended: docker's status (137),
// and one line saying why, which docker leaves to `inspect`.
void report_oom(const berth::ContainerExit& e) {
  if (e.oom_killed)
    std::fprintf(stderr,
                 "berth: the container ran out of memory and the kernel killed it (exit %d; "
                 "raise --memory)\n",
                 e.status);
}

}  // namespace

void add_run_commands(CLI::App& app, Globals& g) {
  static RunFlags run_flags, create_flags;
  static std::string target;
  static bool attach = false;

  auto* run = app.add_subcommand("run", "run a command in a new container");
  run->add_flag("-d,--detach", run_flags.o.detach, "run in the background and print the id");
  add_run_options(run, run_flags);
  run->callback([&g, run] {
    if (!finish_options(run, run_flags, g)) return;
    std::string id;
    auto r = berth::run_container({g.root, g.run_root}, run_flags.o, &id);
    if (!r) {
      g.exit_code = 125;  // docker's "the engine failed", not the program's status
      std::fprintf(stderr, "berth: %s\n", r.error().message().c_str());
      return;
    }
    if (run_flags.o.detach) std::printf("%s\n", id.c_str());
    report_oom(*r);
    g.exit_code = r->status;
  });

  auto* create = app.add_subcommand("create", "make a container without starting it");
  add_run_options(create, create_flags);
  create->callback([&g, create] {
    if (!finish_options(create, create_flags, g)) return;
    auto id = berth::create_container({g.root, g.run_root}, create_flags.o);
    if (!id) {
      g.exit_code = 125;
      std::fprintf(stderr, "berth: %s\n", id.error().message().c_str());
      return;
    }
    std::printf("%s\n", id->c_str());
  });

  auto* start = app.add_subcommand("start", "start a created or exited container");
  start->add_flag("-a,--attach", attach, "wait for it, with its output; exit with its status");
  start->add_option("container", target, "id or name")->required();
  start->callback([&g] {
    auto r = berth::start_container({g.root, g.run_root}, target, attach);
    if (!r) return fail(g, r.error());
    report_oom(*r);
    if (attach)
      g.exit_code = r->status;
    else
      std::printf("%s\n", target.c_str());
  });
}

}  // namespace berth_cli
