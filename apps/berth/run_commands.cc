// Commands that make and start containers: run, create, start.
#include <cstdio>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "apps/berth/run_args.h"
#include "berth/container/containers.h"
#include "berth/image/image_store.h"

namespace berth_cli {
namespace {

// The words after `run`/`create`, read as docker reads them (run_args.h).
// false when nothing is left to do: --help printed, or an error reported
// (exit 125, docker's "the command line was wrong").
bool read_args(CLI::App* cmd, bool is_run, Globals& g, RunArgs& out) {
  auto parsed = read_run_args(g.command_words, is_run);
  if (!parsed) {
    std::fprintf(stderr, "berth %s: %s\n", cmd->get_name().c_str(),
                 parsed.error().message().c_str());
    g.exit_code = 125;
    return false;
  }
  out = std::move(*parsed);
  if (out.help) {
    std::fputs(run_usage(cmd->get_name()).c_str(), stdout);
    return false;
  }
  return true;
}

// docker's --pull: the image is pulled when missing (or always), with the
// pull's progress on stderr, before the container is made.
bool pull_if_needed(Globals& g, const RunArgs& a) {
  const std::string& image = a.options.image;
  if (a.pull == "never") return true;
  if (a.pull == "missing") {
    if (berth::ImageStore(g.root).resolve(image)) return true;
    std::fprintf(stderr, "Unable to find image '%s' locally\n", image.c_str());
  }
  auto pulled = pull_named(g, image, {});
  if (pulled) return true;
  std::fprintf(stderr, "berth: %s\n", pulled.error().message().c_str());
  g.exit_code = 125;
  return false;
}

// run and create take every word themselves, as docker's parser does:
// main() hands them over in g.command_words, and CLI11 sees none.
CLI::App* add_docker_style_command(CLI::App& app, const char* name, const char* what) {
  auto* cmd = app.add_subcommand(name, what);
  cmd->set_help_flag();  // --help is read by run_args; -h is --hostname
  return cmd;
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
  static bool attach = false;

  auto* run = add_docker_style_command(app, "run", "run a command in a new container");
  run->callback([&g, run] {
    RunArgs a;
    if (!read_args(run, true, g, a) || !pull_if_needed(g, a)) return;
    std::string id;
    auto r = berth::run_container({g.root, g.run_root}, a.options, &id);
    if (!r) {
      g.exit_code = 125;  // docker's "the engine failed", not the program's status
      std::fprintf(stderr, "berth: %s\n", r.error().message().c_str());
      return;
    }
    if (a.options.detach) std::printf("%s\n", id.c_str());
    report_oom(*r);
    g.exit_code = r->status;
  });

  auto* create = add_docker_style_command(app, "create", "make a container without starting it");
  create->callback([&g, create] {
    RunArgs a;
    if (!read_args(create, false, g, a) || !pull_if_needed(g, a)) return;
    auto id = berth::create_container({g.root, g.run_root}, a.options);
    if (!id) {
      g.exit_code = 125;
      std::fprintf(stderr, "berth: %s\n", id.error().message().c_str());
      return;
    }
    std::printf("%s\n", id->c_str());
  });

  static std::vector<std::string> targets;
  auto* start = app.add_subcommand("start", "start created or exited containers");
  start->add_flag("-a,--attach", attach, "wait for it, with its output; exit with its status");
  start->add_option("containers", targets, "ids or names")->required();
  start->callback([&g] {
    if (attach && targets.size() > 1)
      return fail(g, base::Error::msg("start: you cannot attach to several containers at once"));
    for (const auto& target : targets) {
      auto r = berth::start_container({g.root, g.run_root}, target, attach);
      if (!r) {
        fail(g, r.error());
        continue;
      }
      report_oom(*r);
      if (attach)
        g.exit_code = r->status;
      else
        std::printf("%s\n", target.c_str());
    }
  });
}

}  // namespace berth_cli
