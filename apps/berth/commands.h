// berth's commands. Each add_* registers subcommands on the app; callbacks set
// `g.exit_code` and report errors with fail().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth_cli {

struct Globals {
  std::string root = "/var/lib/berth";  // images and containers
  std::string run_root = "/run/berth";  // runtime state (berth-oci records)
  int exit_code = 0;
  // The words after `run` or `create`, which read them themselves (run_args.h).
  std::vector<std::string> command_words;
};

void fail(Globals& g, const base::Error& e);

// Prints `rows` through a --format template (berth/output_template.h);
// `headers` names table columns by field. A bad template fails the command.
void print_template(Globals& g, const std::string& format, const std::vector<nlohmann::json>& rows,
                    const std::map<std::string, std::string>& headers = {});

// `inspect`'s output: the objects as one JSON array, or each through the
// --format template; a failure already reported keeps its exit code.
void print_inspected(Globals& g, const std::string& format, std::vector<nlohmann::json> found);

// --since and --until as logs and events read them (base::parse_docker_since,
// relative to `now`): each unset when not given; a value that is no time
// is an error naming the flag.
struct TimeRange {
  std::optional<double> since, until;
};
base::Result<TimeRange> time_range(const std::string& since, const std::string& until, double now);

struct PullFlags {
  std::string platform;  // os/arch[/variant]; "" : this host's
  bool insecure = false;
  bool quiet = false;  // no progress, no summary
  int parallel = 3;    // layers at once
};
// Pulls NAME[:TAG|@DIGEST] into g.root with progress on stderr; returns the image id.
base::Result<std::string> pull_named(const Globals& g, const std::string& name,
                                     const PullFlags& flags);

// `image prune`: data no image needs; with `all`, every image no container
// uses too (each name removed printed as "Untagged: NAME").
base::Status prune_images(Globals& g, bool all);
// version, info, system info/df/prune.
void add_system_commands(CLI::App& app, Globals& g);
// import, images, tag, rmi, save, load, image prune.
void add_image_commands(CLI::App& app, Globals& g);
// stats: CPU, memory, network, block I/O and pids of containers.
void add_stats_command(CLI::App& app, Globals& g);
// inspect: containers and images, in docker's schema.
void add_inspect_command(CLI::App& app, Globals& g);
// pull, login, logout.
void add_registry_commands(CLI::App& app, Globals& g);
// run, create, start.
void add_run_commands(CLI::App& app, Globals& g);
// ps, logs, stop, rm, inspect, top, container prune.
void add_container_commands(CLI::App& app, Globals& g);
// exec, kill, wait.
void add_container_control_commands(CLI::App& app, Globals& g);
// build, history, builder prune.
void add_build_commands(CLI::App& app, Globals& g);
// network create/ls/inspect/rm, port.
void add_network_commands(CLI::App& app, Globals& g);
// cp, export, diff.
void add_filesystem_commands(CLI::App& app, Globals& g);
// volume create/ls/inspect/rm/prune.
void add_volume_commands(CLI::App& app, Globals& g);

}  // namespace berth_cli
