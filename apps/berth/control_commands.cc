// Commands on a container: exec (-i, -t), attach, kill, pause, unpause, rename, update,
// wait.
#include <fcntl.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/child_process.h"
#include "base/sys.h"
#include "base/units.h"
#include "berth/container/container_attach.h"
#include "berth/container/container_exec.h"
#include "berth/container/container_spec.h"
#include "berth/container/container_update.h"
#include "berth/container/containers.h"
#include "berth/container/events.h"
#include "berth/container/spec_options.h"
#include "oci/lifecycle.h"
#include "oci/names.h"

namespace berth_cli {

namespace {

// `update`: docker's flags; those berth has no cgroup control for are
// refused by name.
void add_update_command(CLI::App& app, Globals& g) {
  static std::string memory, memory_swap, cpus, cpu_shares, pids_limit, restart;
  static berth::ContainerUpdate u;
  static std::vector<std::string> targets;
  static std::map<std::string, std::string> refused_values;
  auto* cmd = app.add_subcommand("update", "change containers' limits and restart policy");
  cmd->add_option("-m,--memory", memory, "memory limit (e.g. 64m)");
  cmd->add_option("--memory-swap", memory_swap, "-1 only: swap is not limited apart");
  cmd->add_option("--cpus", cpus, "CPUs (e.g. 0.5)");
  cmd->add_option("-c,--cpu-shares", cpu_shares, "CPU weight (2 to 262144)");
  cmd->add_option("--cpuset-cpus", u.cpuset_cpus, "CPUs it may run on (0-3,5)");
  cmd->add_option("--cpuset-mems", u.cpuset_mems, "memory nodes it may use");
  cmd->add_option("--pids-limit", pids_limit, "maximum number of processes (-1: none)");
  cmd->add_option("--restart", restart, "no, on-failure[:N] or always");
  static const std::vector<std::pair<std::string, std::string>> kRefused = {
      {"blkio-weight", "block I/O weights are not supported"},
      {"cpu-period", "not supported; use --cpus"},
      {"cpu-quota", "not supported; use --cpus"},
      {"cpu-rt-period", "real-time scheduling is not supported"},
      {"cpu-rt-runtime", "real-time scheduling is not supported"},
      {"kernel-memory", "deprecated by docker; not supported"},
      {"memory-reservation", "not supported; use --memory"}};
  for (const auto& [flag, why] : kRefused)
    cmd->add_option("--" + flag, refused_values[flag], "refused: " + why);
  cmd->add_option("containers", targets, "ids or names")->required();
  cmd->callback([&g, cmd] {
    for (const auto& [flag, why] : kRefused)
      if (cmd->count("--" + flag) > 0)
        return fail(g, base::Error::msg(fmt::format("--{}: {}", flag, why)));
    berth::ContainerUpdate ask = u;
    auto number = [](const std::string& flag, const std::string& text) -> base::Result<int64_t> {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size())
        return base::fail_msg(fmt::format("--{} '{}': not a whole number", flag, text));
      return v;
    };
    auto read = [&]() -> base::Status {
      if (!memory_swap.empty()) TRY_STATUS(berth::check_memory_swap(memory_swap));
      if (!memory.empty()) {
        auto bytes = base::units::parse_size(memory);
        if (!bytes || *bytes > static_cast<uint64_t>(INT64_MAX))
          return base::fail_msg(fmt::format("--memory '{}': not a size such as 64m", memory));
        if (*bytes != 0) ask.memory = static_cast<int64_t>(*bytes);  // docker: 0 is unchanged
      }
      if (!cpus.empty() && cpus != "0") ask.cpus = TRY(berth::parse_cpus(cpus));
      if (!cpu_shares.empty()) ask.cpu_shares = TRY(number("cpu-shares", cpu_shares));
      if (ask.cpu_shares == 0) ask.cpu_shares.reset();
      if (!pids_limit.empty()) ask.pids_limit = TRY(number("pids-limit", pids_limit));
      if (ask.pids_limit == 0) ask.pids_limit.reset();  // docker: 0 is unchanged
      if (ask.pids_limit && *ask.pids_limit < 0) ask.pids_limit = -1;
      ask.restart = restart;
      return ask.check();
    };
    if (auto s = read(); !s) return fail(g, s.error());
    if (ask.empty() && memory.empty() && cpus.empty() && cpu_shares.empty() && pids_limit.empty())
      return fail(g, base::Error::msg("update: give at least one flag to change"));
    for (const auto& t : targets) {
      if (auto s = berth::update_container({g.root, g.run_root}, t, ask); !s) {
        fail(g, s.error());
        continue;
      }
      std::printf("%s\n", t.c_str());
    }
  });
}

}  // namespace

void add_container_control_commands(CLI::App& app, Globals& g) {
  static std::string target, signal_name = "KILL", workdir, user;
  static std::vector<std::string> env;
  auto* exec = app.add_subcommand("exec", "run another command in a running container");
  exec->add_option("-e,--env", env, "NAME=VALUE (repeatable)")->allow_extra_args(false);
  exec->add_option("-w,--workdir", workdir, "working directory inside");
  exec->add_option("-u,--user", user, "UID[:GID]");
  static bool interactive = false, tty = false, detach = false, privileged = false;
  static std::vector<std::string> env_files;
  exec->add_flag("-d,--detach", detach, "leave the command running in the background");
  exec->add_option("--env-file", env_files, "a file of NAME=VALUE lines (repeatable)")
      ->allow_extra_args(false);
  exec->add_flag("--privileged", privileged, "not supported: refused");
  exec->add_flag("-i,--interactive", interactive, "give the command our standard input");
  exec->add_flag("-t,--tty", tty, "run it on a terminal (with -i: ours, raw, resized)");
  exec->add_option("container", target, "id or name")->required();
  exec->prefix_command();
  exec->callback([&g, exec] {
    if (privileged)
      return fail(g, base::Error::msg("exec --privileged: not supported (an exec gets the "
                                      "container's own capabilities)"));
    if (detach && (interactive || tty))
      return fail(g, base::Error::msg("exec -d: cannot be used with -i or -t"));
    berth::ExecRequest r;
    r.args = exec->remaining();
    for (const auto& file : env_files) {  // docker's order: files first, then -e
      auto more = berth::read_env_file(file);
      if (!more) return fail(g, more.error());
      r.env.insert(r.env.end(), more->begin(), more->end());
    }
    r.env.insert(r.env.end(), env.begin(), env.end());
    r.cwd = workdir;
    r.user = user;
    r.interactive = interactive;
    r.tty = tty;
    if (detach) {
      // Checked here, so a stopped container is an error now, not in the background.
      auto rec = berth::find_container(g.root, target);
      if (!rec) return fail(g, rec.error());
      if (berth::inspect_container({g.root, g.run_root}, rec->id)
              .value_or(nlohmann::json())["State"]["Status"] != "running")
        return fail(g, base::Error::msg(fmt::format("container {} is not running", target)));
      // The command's own process: a new session, no terminal, no output of
      // ours; it is the container's once started, and outlives this command.
      auto child = base::ChildProcess::fork([&] {
        if (!base::sys::setsid()) return 126;
        auto null_fd = base::sys::open("/dev/null", O_RDWR);
        if (!null_fd) return 126;
        for (int fd = 0; fd < 3; ++fd) (void)base::sys::dup2(null_fd->get(), fd);
        auto code = berth::exec_in_container({g.root, g.run_root}, target, r);
        return code ? *code : 126;
      });
      if (!child) return fail(g, child.error());
      child->release();
      return;
    }
    auto code = berth::exec_in_container({g.root, g.run_root}, target, r);
    if (!code) {
      std::fprintf(stderr, "berth: %s\n", code.error().message().c_str());
      g.exit_code = 126;
      return;
    }
    g.exit_code = *code;
  });

  static berth::AttachOptions attach_options;
  auto* attach = app.add_subcommand("attach", "connect to a running container's input and output");
  attach->add_flag("--no-stdin", attach_options.no_stdin, "do not send our standard input");
  attach->add_flag("--sig-proxy", attach_options.sig_proxy,
                   "pass the signals we get on to it (default true; no terminal only)");
  attach->add_option("--detach-keys", attach_options.detach_keys,
                     "keys that leave it running (default ctrl-p,ctrl-q; terminal only)");
  attach->add_option("container", target, "id or name")->required();
  attach->callback([&g] {
    std::fflush(stdout);
    auto code = berth::attach_container({g.root, g.run_root}, target, attach_options);
    if (!code) return fail(g, code.error());
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
      berth::record_container_event(g.root, *rec, "kill", {{"signal", std::to_string(*sig)}});
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

  add_update_command(app, g);

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
