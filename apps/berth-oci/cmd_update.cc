// update [--resources F|-] [--memory N] [--cpu-quota N] [--cpu-period N] [--cpu-share N]
//        [--cpuset-cpus S] [--pids-limit N] ID — change a container's cgroup limits.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "apps/berth-oci/commands.h"
#include "base/text_file.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_update(CLI::App& app, Globals& g) {
  static std::string id, file, cpus;
  static std::optional<int64_t> memory, quota, pids;
  static std::optional<uint64_t> period, shares;
  auto* cmd = app.add_subcommand("update", "change a container's resource limits");
  cmd->add_option("-r,--resources", file, "linux.resources JSON file, or - for stdin");
  cmd->add_option("-m,--memory", memory, "memory limit in bytes");
  cmd->add_option("--cpu-quota", quota, "CFS quota in microseconds");
  cmd->add_option("--cpu-period", period, "CFS period in microseconds");
  cmd->add_option("--cpu-share", shares, "CPU shares");
  cmd->add_option("--cpuset-cpus", cpus, "CPUs allowed");
  cmd->add_option("--pids-limit", pids, "maximum number of processes");
  cmd->add_option("id", id, "container id")->required();
  cmd->callback([&g] {
    nlohmann::json j = nlohmann::json::object();
    if (!file.empty()) {
      std::string text;
      if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), {});
      } else {
        auto t = base::read_text(file);
        if (!t) return fail(g, t.error());
        text = *t;
      }
      j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) return fail(g, base::Error::msg("--resources: not valid JSON"));
    }
    if (memory) j["memory"]["limit"] = *memory;
    if (quota) j["cpu"]["quota"] = *quota;
    if (period) j["cpu"]["period"] = *period;
    if (shares) j["cpu"]["shares"] = *shares;
    if (!cpus.empty()) j["cpu"]["cpus"] = cpus;
    if (pids) j["pids"]["limit"] = *pids;
    auto r = oci::parse_resources(j, "resources");
    if (!r) return fail(g, r.error());
    report(g, oci::update_container(g.root, id, *r));
  });
}

}  // namespace berth_oci
