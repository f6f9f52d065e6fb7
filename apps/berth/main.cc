// berth: a daemonless container engine with a docker-like command line.
//   berth [--root DIR] [--run-root DIR] COMMAND ...
#include <fcntl.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/sys.h"
#include "base/timestamp.h"
#include "berth/output_template.h"

namespace berth_cli {

void fail(Globals& g, const base::Error& e) {
  std::fprintf(stderr, "berth: %s\n", e.message().c_str());
  g.exit_code = 1;
}

void print_template(Globals& g, const std::string& format, const std::vector<nlohmann::json>& rows,
                    const std::map<std::string, std::string>& headers) {
  // docker's --format json: each row as one line of JSON.
  auto parsed = berth::OutputTemplate::parse(format == "json" ? "{{json .}}" : format, headers);
  if (!parsed) return fail(g, parsed.error());
  auto text = parsed->render(rows);
  if (!text) return fail(g, text.error());
  std::fputs(text->c_str(), stdout);
}

void print_inspected(Globals& g, const std::string& format, std::vector<nlohmann::json> found) {
  int failed = g.exit_code;
  if (!format.empty()) {
    print_template(g, format, found);
  } else {
    nlohmann::json out = nlohmann::json::array();
    for (auto& f : found) out.push_back(std::move(f));
    std::printf("%s\n", out.dump(4).c_str());
  }
  if (failed) g.exit_code = failed;
}

base::Result<TimeRange> time_range(const std::string& since, const std::string& until, double now) {
  TimeRange range;
  for (const auto& [flag, text, out] :
       {std::tuple{"--since", &since, &range.since}, std::tuple{"--until", &until, &range.until}}) {
    if (text->empty()) continue;
    *out = base::parse_docker_since(*text, now);
    if (!*out)
      return base::fail_msg(fmt::format(
          "{} '{}': not a time (RFC 3339, a Unix time, or a duration such as 10m)", flag, *text));
  }
  return range;
}

namespace {

// `container ls` -> "ps", `image rm` -> "rmi": docker's management
// commands, where berth has the command under its short name. nullptr
// for the others (`container prune`, `image prune` are commands of their own).
const char* short_form_of(std::string_view group, std::string_view command) {
  struct Alias {
    std::string_view group, command;
    const char* short_form;
  };
  // One alias a line.
  // clang-format off
  static constexpr Alias kAliases[] = {
      {"container", "ls", "ps"},
      {"container", "list", "ps"},
      {"container", "ps", "ps"},
      {"container", "run", "run"},
      {"container", "create", "create"},
      {"container", "start", "start"},
      {"container", "stop", "stop"},
      {"container", "rm", "rm"},
      {"container", "kill", "kill"},
      {"container", "wait", "wait"},
      {"container", "logs", "logs"},
      {"container", "inspect", "inspect"},
      {"container", "exec", "exec"},
      {"container", "top", "top"},
      {"container", "port", "port"},
      {"container", "stats", "stats"},
      {"container", "pause", "pause"},
      {"container", "unpause", "unpause"},
      {"container", "rename", "rename"},
      {"container", "restart", "restart"},
      {"container", "cp", "cp"},
      {"container", "export", "export"},
      {"container", "diff", "diff"},
      {"container", "commit", "commit"},
      {"image", "ls", "images"},
      {"image", "list", "images"},
      {"image", "rm", "rmi"},
      {"image", "pull", "pull"},
      {"image", "tag", "tag"},
      {"image", "inspect", "inspect"},
      {"image", "save", "save"},
      {"image", "load", "load"},
      {"image", "import", "import"},
      {"image", "history", "history"},
      {"image", "build", "build"},
  };
  // clang-format on
  for (const auto& a : kAliases)
    if (a.group == group && a.command == command) return a.short_form;
  return nullptr;
}

}  // namespace

}  // namespace berth_cli

int main(int argc, char** argv) {
  using namespace berth_cli;
  // Children are waited for: a SIGCHLD ignored by whoever started us would
  // have the kernel reap them, and every exit status read as a failure.
  ::signal(SIGCHLD, SIG_DFL);
  // Started with 0, 1 or 2 closed, the next pipe would take its number and
  // be mistaken for our stdio: /dev/null holds each closed one.
  for (int fd = 0; fd < 3; ++fd) {
    if (base::sys::fstat(fd)) continue;
    auto null_fd = base::sys::open("/dev/null", O_RDWR);  // the lowest free: `fd`
    if (null_fd && null_fd->get() == fd) (void)base::sys::set_cloexec(null_fd->release(), false);
  }
  Globals g;
  CLI::App app{"berth: containers from images, on the berth-oci runtime"};
  app.require_subcommand(1);
  app.add_option("--root", g.root, "images and containers")->capture_default_str();
  app.add_option("--run-root", g.run_root, "runtime state")->capture_default_str();
  // Before any command: a --root that cannot be one fails them all alike.
  app.parse_complete_callback([&g] {
    for (const auto& [flag, dir] : {std::pair{"--root", g.root}, {"--run-root", g.run_root}}) {
      std::error_code ec;
      auto st = std::filesystem::status(dir, ec);
      if (ec && ec != std::errc::no_such_file_or_directory)  // made on first use otherwise
        throw CLI::RuntimeError(fmt::format("{} {}: {}", flag, dir, ec.message()), 125);
      if (!ec && st.type() != std::filesystem::file_type::directory)
        throw CLI::RuntimeError(fmt::format("{} {}: not a directory", flag, dir), 125);
    }
  });
  // run and create read their words as docker does (run_args.h): CLI11
  // sees the words up to the command's name, and the command the rest.
  // docker's long forms (`container ls`, `image rm`) are their short ones.
  std::vector<char*> args(argv, argv + argc);
  bool starts_a_container = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view w = args[i];
    if (w == "--root" || w == "--run-root") {
      ++i;
    } else if (w.rfind("--root=", 0) != 0 && w.rfind("--run-root=", 0) != 0) {
      if (i + 1 < args.size()) {
        if (const char* short_form = short_form_of(w, args[i + 1])) {
          // `image inspect` and `container inspect` look at their kind only.
          static char type_flag[] = "--type", image[] = "image", container[] = "container";
          bool typed = std::string_view(short_form) == "inspect";
          char* kind = w == "image" ? image : container;
          args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
          args[i] = const_cast<char*>(short_form);
          if (typed)
            args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, {type_flag, kind});
          w = args[i];
        }
      }
      if (w == "run" || w == "create") {
        g.command_words.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
        args.resize(i + 1);
        starts_a_container = true;
      }
      break;
    }
  }
  // CLI11 sees no word of run's or create's but their name, so for them the
  // rest of the command tree is not built: that is a third of a millisecond
  // of every container's start. Any other word (help, a typo) gets it all.
  if (starts_a_container) {
    add_run_commands(app, g);
  } else {
    add_image_commands(app, g);
    add_inspect_command(app, g);
    add_stats_command(app, g);
    add_build_commands(app, g);
    add_registry_commands(app, g);
    add_run_commands(app, g);
    add_container_commands(app, g);
    add_container_control_commands(app, g);
    add_network_commands(app, g);
    add_volume_commands(app, g);
    add_filesystem_commands(app, g);
    add_system_commands(app, g);
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "berth: %s\n", e.what());
    return dynamic_cast<const CLI::RuntimeError*>(&e) ? e.get_exit_code() : 2;
  } catch (const std::exception& e) {  // a bug, but one line and 125, never an abort
    std::fprintf(stderr, "berth: internal error: %s\n", e.what());
    return 125;
  } catch (...) {
    std::fprintf(stderr, "berth: internal error: unknown exception\n");
    return 125;
  }
  return g.exit_code;
}
