// Volume commands: volume create/ls/inspect/rm/prune (berth/container/volumes.h).
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "berth/container/containers.h"
#include "berth/container/volumes.h"

namespace berth_cli {
namespace {

// `volume ls --filter`: dangling=true|false, name=PART, label=KEY[=VALUE], driver=local.
base::Result<bool> volume_matches(const berth::Volume& v, const std::string& filter,
                                  const std::set<std::string>& in_use) {
  auto eq = filter.find('=');
  if (eq == std::string::npos)
    return base::fail_msg(fmt::format("--filter '{}': must be KEY=VALUE", filter));
  std::string key = filter.substr(0, eq), value = filter.substr(eq + 1);
  if (key == "name") return v.name.find(value) != std::string::npos;
  if (key == "driver") return value == "local";
  if (key == "dangling") {
    if (value != "true" && value != "false" && value != "1" && value != "0")
      return base::fail_msg(fmt::format("--filter '{}': dangling is true or false", filter));
    bool used = in_use.count(v.name) > 0;
    return (value == "true" || value == "1") != used;
  }
  if (key == "label") {
    auto leq = value.find('=');
    auto it = v.labels.find(value.substr(0, leq));
    return it != v.labels.end() &&
           (leq == std::string::npos || it->second == value.substr(leq + 1));
  }
  return base::fail_msg(
      fmt::format("--filter '{}': no such filter ({})", filter, "dangling, name, label or driver"));
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", k, v);
  }
  return out;
}

}  // namespace

void add_volume_commands(CLI::App& app, Globals& g) {
  auto* volume = app.add_subcommand("volume", "named volumes: create, ls, inspect, rm, prune");
  volume->require_subcommand(1);
  static std::string name, format, driver = "local";
  static std::vector<std::string> names, labels, filters, opts;
  static bool quiet = false, force = false;

  auto* create = volume->add_subcommand("create", "a volume (a random name when none is given)");
  create->add_option("-d,--driver", driver, "local, the only driver");
  create->add_option("--label", labels, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  create->add_option("-o,--opt", opts, "driver options: not supported")->allow_extra_args(false);
  create->add_option("name", name, "the volume's name");
  create->callback([&g] {
    if (driver != "local")
      return fail(g, base::Error::msg(fmt::format("--driver {}: only local exists here", driver)));
    if (!opts.empty())
      return fail(g, base::Error::msg("--opt: driver options are not supported (local volumes "
                                      "are plain directories)"));
    std::map<std::string, std::string> label_map;
    for (const auto& l : labels) {
      auto eq = l.find('=');
      label_map[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    auto lock = berth::lock_volumes(g.root);
    if (!lock) return fail(g, lock.error());
    auto v = berth::ensure_volume(g.root, name, label_map, false);
    if (!v) return fail(g, v.error());
    std::printf("%s\n", v->name.c_str());
  });

  auto* ls = volume->add_subcommand("ls", "list volumes");
  ls->alias("list");
  ls->add_flag("-q,--quiet", quiet, "names only");
  ls->add_option("-f,--filter", filters, "dangling=true, name=X, label=K[=V], driver=local")
      ->allow_extra_args(false);
  ls->add_option("--format", format, "a template: {{.Name}}\\t{{.Mountpoint}}");
  ls->callback([&g] {
    auto in_use = berth::volumes_in_use(berth::list_containers(g.root));
    std::vector<nlohmann::json> rows;
    for (const auto& v : berth::list_volumes(g.root)) {
      bool keep = true;
      for (const auto& f : filters) {
        auto ok = volume_matches(v, f, in_use);
        if (!ok) return fail(g, ok.error());
        keep = keep && *ok;
      }
      if (!keep) continue;
      auto row = berth::volume_json(v);
      row["Labels"] = labels_text(v.labels);
      row["Links"] = "N/A";
      row["Size"] = "N/A";
      rows.push_back(std::move(row));
    }
    std::string shape = quiet             ? "{{.Name}}"
                        : !format.empty() ? format
                                          : "table {{.Driver}}\\t{{.Name}}";
    print_template(g, shape, rows, {{"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}});
  });

  auto* inspect = volume->add_subcommand("inspect", "volumes as docker shows them");
  inspect->add_option("names", names, "volume names")->required();
  inspect->add_option("-f,--format", format, "a Go template: {{.Mountpoint}}");
  inspect->callback([&g] {
    std::vector<nlohmann::json> found;
    for (const auto& n : names) {
      auto v = berth::find_volume(g.root, n);
      if (!v) {
        fail(g, v.error());
        continue;
      }
      found.push_back(berth::volume_json(*v));
    }
    print_inspected(g, format, std::move(found));
  });

  auto* rm = volume->add_subcommand("rm", "remove volumes no container uses");
  rm->alias("remove");
  rm->add_flag("-f,--force", force, "a volume that does not exist is no error");
  rm->add_option("names", names, "volume names")->required();
  rm->callback([&g] {
    for (const auto& n : names) {
      if (force && !berth::find_volume(g.root, n)) {  // docker names it all the same
        std::printf("%s\n", n.c_str());
        continue;
      }
      if (auto s = berth::remove_volume(g.root, n); !s)
        fail(g, s.error());
      else
        std::printf("%s\n", n.c_str());
    }
  });

  static bool all = false;
  auto* prune = volume->add_subcommand("prune", "remove the anonymous volumes no container uses");
  prune->add_flag("-a,--all", all, "named ones too");
  prune->add_flag("-f,--force", force, "do not ask (berth never asks)");
  prune->add_option("--filter", filters, "label=K[=V]: only these")->allow_extra_args(false);
  prune->callback([&g] {
    for (const auto& f : filters)
      if (f.rfind("label=", 0) != 0)
        return fail(g, base::Error::msg(fmt::format("--filter '{}': only label= here", f)));
    auto removed = berth::prune_volumes(g.root, all, filters);
    if (!removed) return fail(g, removed.error());
    std::printf("Deleted Volumes:\n");
    for (const auto& n : *removed) std::printf("%s\n", n.c_str());
  });
}

}  // namespace berth_cli
