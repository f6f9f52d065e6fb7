// Container commands: ps, logs, stop, rm, top, container prune.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "apps/berth/container_filter.h"
#include "base/dirs.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "base/units.h"
#include "berth/container/container_logs.h"
#include "berth/container/containers.h"
#include "berth/container/health.h"
#include "berth/go_text.h"
#include "berth/image/image_store.h"
#include "berth/network/port_mapping.h"
#include "oci/exec_process.h"
#include "oci/lifecycle.h"
#include "oci/names.h"

namespace berth_cli {
namespace {

// "a=1,b=2", as docker's ps shows labels.
std::string label_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out.append(k).append("=").append(v);
  }
  return out;
}

// Its health status: starting, healthy or unhealthy; "none" without checks.
std::string health_of(const std::string& root, const berth::ContainerRecord& c) {
  if (!berth::has_health_checks(c.config.value("Healthcheck", nlohmann::json()))) return "none";
  auto h = berth::health_state(berth::container_dir(root, c.id));
  return h.is_null() ? "starting" : h.value("Status", "starting");
}

// docker's COMMAND: the words joined by spaces, a word holding a space in
// single quotes; cut to 20 characters unless `whole`; then Go-quoted.
std::string command_text(const std::vector<std::string>& command, bool whole) {
  std::string text;
  for (size_t i = 0; i < command.size(); ++i) {
    if (i > 0) text += ' ';
    bool quote = i > 0 && command[i].find(' ') != std::string::npos;
    text += quote ? "'" + command[i] + "'" : command[i];
  }
  return berth::go_quote(whole ? text : berth::ellipsis(text, 20));
}

// A container as `ps --format` templates see it: docker's field names.
nlohmann::json ps_row(const berth::ContainerRecord& c, bool paused, const std::string& root) {
  // docker's words: "Up 5 seconds", "Exited (0) 3 minutes ago", "Created".
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto since = [&](const std::string& when) {
    auto t = base::parse_rfc3339(when);
    return base::human_duration(t ? now - *t : 0);
  };
  std::string status = paused ? "Up " + since(c.started) + " (Paused)"
                       : c.state == "exited"
                           ? fmt::format("Exited ({}) {} ago", c.exit_code, since(c.finished))
                       : c.state == "running" ? "Up " + since(c.started)
                       : c.state == "created" ? "Created"
                                              : c.state;
  // docker's health words after a running container's: "(healthy)",
  // "(unhealthy)", "(health: starting)".
  if (std::string health = health_of(root, c); c.state == "running" && health != "none")
    status += health == "starting" ? " (health: starting)" : " (" + health + ")";
  std::string ports;
  if (c.network.contains("ports"))
    for (const auto& j : c.network["ports"])
      if (auto p = berth::port_from_json(j)) ports += (ports.empty() ? "" : ", ") + p->text();
  return {{"ID", c.id.substr(0, 12)},
          {"Ports", ports},
          {"Networks", c.network.value("name", c.network.value("mode", ""))},
          {"FullID", c.id},
          {"Names", c.name},
          {"Image", c.image},
          {"Command", command_text(c.command, false)},
          {"CreatedAt", base::docker_time(c.created)},
          {"RunningFor", since(c.created) + " ago"},
          {"Labels", label_text(c.labels)},
          {"State", paused ? "paused" : c.state},
          {"Status", status},
          {"ExitCode", c.exit_code},
          {"Pid", c.pid}};
}

// docker's SIZE: the bytes of the files the container wrote (its upper
// directory; each inode once), then "(virtual ...)" with its image's layers.
std::string size_text(const std::string& root, const berth::ContainerRecord& c,
                      const std::map<std::string, uint64_t>& image_sizes) {
  uint64_t written = base::tree_size(berth::container_dir(root, c.id) + "/upper").value_or(0);
  auto image = image_sizes.find(c.image_id);
  uint64_t virtual_size = written + (image == image_sizes.end() ? 0 : image->second);
  std::string text = base::units::go_size(static_cast<double>(written), false, 3);
  if (virtual_size > 0)
    text += " (virtual " + base::units::go_size(static_cast<double>(virtual_size), false, 3) + ")";
  return text;
}

}  // namespace

void add_container_commands(CLI::App& app, Globals& g) {
  static std::vector<std::string> words;
  static bool all = false, quiet = false;
  auto* ps = app.add_subcommand("ps", "list containers");
  ps->add_flag("-a,--all", all, "include exited ones");
  ps->add_flag("-q,--quiet", quiet, "ids only");
  static std::string ps_format;
  ps->add_option("--format", ps_format,
                 "json (one array of the records), or a template: table {{.ID}}\\t{{.Names}}");
  static std::vector<std::string> filters;
  static int last = -1;
  static bool latest = false, no_trunc = false;
  ps->add_option("-f,--filter", filters,
                 "KEY=VALUE: id, name, label, status, exited, ancestor, network (repeatable)")
      ->allow_extra_args(false);
  ps->add_option("-n,--last", last, "the N containers made last (any state)");
  ps->add_flag("-l,--latest", latest, "the container made last (any state)");
  ps->add_flag("--no-trunc", no_trunc, "whole ids and commands");
  static bool sizes = false;
  ps->add_flag("-s,--size", sizes,
               "a SIZE column: what the container wrote, and with its image's layers");
  ps->callback([&g] {
    auto filter = ContainerFilter::parse(filters);
    if (!filter) return fail(g, filter.error());
    berth::Paths p{g.root, g.run_root};
    auto list = berth::containers(p);
    if (auto s = filter->resolve(g.root); !s) return fail(g, s.error());
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.created > b.created; });
    if (latest) last = 1;
    if (last >= 0 && static_cast<size_t>(last) < list.size())
      list.resize(static_cast<size_t>(last));
    bool any_state = all || last >= 0 || filter->names_status();
    // Each container's frozen state, asked of the runtime once.
    std::vector<std::pair<berth::ContainerRecord, bool>> shown;
    for (auto& c : list) {
      if (!any_state && c.state != "running") continue;
      bool paused = berth::is_paused(p, c);
      if (filter->matches(c, paused, health_of(g.root, c)))
        shown.emplace_back(std::move(c), paused);
    }
    if (ps_format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [c, paused] : shown) {
        out.push_back({{"Id", c.id},
                       {"Name", c.name},
                       {"Image", c.image},
                       {"Command", c.command},
                       {"State", c.state},
                       {"ExitCode", c.exit_code},
                       {"Created", c.created},
                       {"Pid", c.pid}});
      }
      std::printf("%s\n", out.dump().c_str());
      return;
    }
    std::string format = !ps_format.empty() ? ps_format
                         : quiet            ? "{{.ID}}"
                                 : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                                   "{{.Status}}\t{{.Ports}}\t{{.Names}}";
    // docker computes sizes for -s, and for a template that shows them.
    bool with_sizes = format.find(".Size") != std::string::npos;
    if (sizes && ps_format.empty() && !quiet) {
      format += "\t{{.Size}}";
      with_sizes = true;
    }
    std::map<std::string, uint64_t> image_sizes;
    if (with_sizes)
      for (const auto& i : berth::ImageStore(g.root).list()) image_sizes[i.id] = i.size;
    std::vector<nlohmann::json> rows;
    for (const auto& [c, paused] : shown) {
      rows.push_back(ps_row(c, paused, g.root));
      if (with_sizes) rows.back()["Size"] = size_text(g.root, c, image_sizes);
      if (no_trunc) {
        rows.back()["ID"] = c.id;
        rows.back()["Command"] = command_text(c.command, true);
      }
    }
    print_template(g, format, rows,
                   {{"ID", "CONTAINER ID"},
                    {"CreatedAt", "CREATED AT"},
                    {"RunningFor", "CREATED"},
                    {"ExitCode", "EXIT CODE"}});
  });

  static std::string target;
  static int timeout = 10;
  static bool force = false;
  static bool follow = false, timestamps = false, details = false;
  static int tail = -1;
  auto* logs = app.add_subcommand("logs", "print a container's output");
  logs->add_flag("-f,--follow", follow, "keep printing new output until the container exits");
  logs->add_option("-n,--tail", tail, "only the last N lines");
  logs->add_flag("-t,--timestamps", timestamps, "prefix each line with when it was written");
  logs->add_flag("--details", details,
                 "prefix each line with its log attributes (berth's log has none: a space)");
  static std::string since, until;
  logs->add_option("--since", since,
                   "only lines from then on: 2026-12-07T10:00:00Z, 10m, a Unix time");
  logs->add_option("--until", until, "only lines before then (same forms)");
  logs->add_option("container", target, "id or name")->required();
  logs->callback([&g] {
    berth::Paths p{g.root, g.run_root};
    double now = static_cast<double>(base::parse_rfc3339(base::now_rfc3339()).value_or(0));
    auto range = time_range(since, until, now);
    if (!range) return fail(g, range.error());
    std::optional<double> from_time = range->since, to_time = range->until;
    auto print = [&](const std::vector<berth::LogLine>& lines, size_t from) {
      for (size_t i = from; i < lines.size(); ++i) {
        if (from_time || to_time) {
          auto at = base::parse_docker_since(lines[i].time, now);
          if (!at || (from_time && *at < *from_time) || (to_time && *at > *to_time)) continue;
        }
        std::FILE* out = lines[i].stream == "stderr" ? stderr : stdout;
        if (timestamps) std::fprintf(out, "%s ", lines[i].time.c_str());
        if (details) std::fputc(' ', out);  // docker's: "ATTRS " and no attributes here
        std::fputs(lines[i].text.c_str(), out);
        std::fflush(out);
      }
    };
    auto reader = berth::LogReader::open(p, target, tail);
    if (!reader) return fail(g, reader.error());
    for (;;) {  // in pieces: a large log is never held whole
      auto lines = reader->next();
      if (!lines) return fail(g, lines.error());
      if (lines->empty()) break;
      print(*lines, 0);
    }
    while (follow) {
      auto rec = berth::inspect_container(p, target);
      bool running = rec && (*rec)["State"]["Status"] == "running";
      auto more = reader->next();
      if (!more) return fail(g, more.error());
      print(*more, 0);
      if (!running && more->empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  auto* top = app.add_subcommand("top", "list the processes of a running container");
  top->add_option("container", target, "id or name")->required();
  top->callback([&g] {
    auto rec = berth::inspect_container({g.root, g.run_root}, target);
    if (!rec) return fail(g, rec.error());
    if ((*rec)["State"]["Status"] != "running")
      return fail(g, base::Error::msg(fmt::format("container {} is not running", target)));
    auto pids = oci::container_pids(g.run_root, (*rec)["Id"].get<std::string>());
    if (!pids) return fail(g, pids.error());
    std::printf("%-8s %s\n", "PID", "CMD");
    for (pid_t pid : *pids) {
      std::string cmd = base::read_text(fmt::format("/proc/{}/cmdline", pid)).value_or("");
      for (auto& c : cmd)
        if (c == '\0') c = ' ';
      while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
      std::printf("%-8d %s\n", pid, cmd.c_str());
    }
  });

  auto* container = app.add_subcommand("container", "container housekeeping");
  auto* prune = container->add_subcommand("prune", "remove every container that is not running");
  container->require_subcommand(1);
  static bool prune_force = false;
  prune->add_flag("-f,--force", prune_force, "do not ask (berth never asks)");
  prune->callback([&g] {
    auto removed = berth::prune_containers({g.root, g.run_root});
    if (!removed) return fail(g, removed.error());
    for (const auto& id : *removed) std::printf("%s\n", id.c_str());
  });

  auto* stop =
      app.add_subcommand("stop", "stop a container: SIGTERM, then SIGKILL after the timeout");
  stop->add_option("-t,--time", timeout,
                   "seconds to wait before SIGKILL (default: the container's --stop-timeout, 10)");
  stop->add_option("containers", words, "ids or names")->required();
  stop->callback([&g, stop] {
    // Without -t, each container's own --stop-timeout.
    std::optional<int> wait = stop->count("--time") ? std::optional<int>(timeout) : std::nullopt;
    for (const auto& w : words) {
      if (auto s = berth::stop_container({g.root, g.run_root}, w, wait); !s)
        fail(g, s.error());
      else
        std::printf("%s\n", w.c_str());
    }
  });
  static int restart_timeout = 10;
  auto* restart = app.add_subcommand("restart", "stop containers, then start them again");
  restart->add_option("-t,--time", restart_timeout,
                      "seconds to wait before SIGKILL (default: the container's --stop-timeout)");
  restart->add_option("containers", words, "ids or names")->required();
  restart->callback([&g, restart] {
    std::optional<int> wait =
        restart->count("--time") ? std::optional<int>(restart_timeout) : std::nullopt;
    berth::Paths p{g.root, g.run_root};
    for (const auto& w : words) {
      auto s = berth::stop_container(p, w, wait);
      auto started = s ? berth::start_container(p, w, false) : base::fail(std::move(s).error());
      if (!started) {
        fail(g, started.error());
        continue;
      }
      std::printf("%s\n", w.c_str());
    }
  });

  auto* rm = app.add_subcommand("rm", "remove containers");
  rm->add_flag("-f,--force", force, "stop running ones first");
  static bool volumes = false;
  rm->add_flag("-v,--volumes", volumes, "their anonymous volumes too");
  rm->add_option("containers", words, "ids or names")->required();
  rm->callback([&g] {
    for (const auto& w : words) {
      if (auto s = berth::remove_container({g.root, g.run_root}, w, force, volumes); !s)
        fail(g, s.error());
      else
        std::printf("%s\n", w.c_str());
    }
  });
}

}  // namespace berth_cli
