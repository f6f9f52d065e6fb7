#include "berth/container/container_update.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text_file.h"
#include "berth/container/container_handle.h"
#include "berth/container/container_record.h"
#include "berth/container/events.h"
#include "berth/container/spec_options.h"
#include "oci/lifecycle.h"
#include "oci/resources.h"

namespace berth {
namespace {

// CFS period berth gives --cpus (docker's default): quota = cpus * period.
constexpr int64_t kCpuPeriod = 100000;

// The cgroup values of `u`, as the runtime writes them.
oci::Resources resources_of(const ContainerUpdate& u) {
  oci::Resources r;
  r.memory_limit = u.memory;
  if (u.cpus) {
    r.cpu_quota = static_cast<int64_t>(*u.cpus * kCpuPeriod);
    r.cpu_period = kCpuPeriod;
  }
  if (u.cpu_shares) r.cpu_shares = static_cast<uint64_t>(*u.cpu_shares);
  r.cpus = u.cpuset_cpus;
  r.mems = u.cpuset_mems;
  r.pids_limit = u.pids_limit;
  return r;
}

// The same values in the bundle's linux.resources, for every later start.
void apply_to_spec(const ContainerUpdate& u, nlohmann::json& spec) {
  auto& res = spec["linux"]["resources"];
  if (u.memory) res["memory"]["limit"] = *u.memory;
  if (u.cpus) {
    res["cpu"]["quota"] = static_cast<int64_t>(*u.cpus * kCpuPeriod);
    res["cpu"]["period"] = kCpuPeriod;
  }
  if (u.cpu_shares) res["cpu"]["shares"] = *u.cpu_shares;
  if (!u.cpuset_cpus.empty()) res["cpu"]["cpus"] = u.cpuset_cpus;
  if (!u.cpuset_mems.empty()) res["cpu"]["mems"] = u.cpuset_mems;
  if (u.pids_limit) {
    if (*u.pids_limit > 0)
      res["pids"] = {{"limit", *u.pids_limit}};
    else
      res.erase("pids");
  }
}

// And in docker's HostConfig, as `inspect` shows them.
void apply_to_host_config(const ContainerUpdate& u, const ContainerRecord& rec,
                          nlohmann::json& hc) {
  if (u.memory) hc["Memory"] = *u.memory;
  if (u.cpus) hc["NanoCpus"] = static_cast<int64_t>(*u.cpus * 1e9);
  if (u.cpu_shares) hc["CpuShares"] = *u.cpu_shares;
  if (!u.cpuset_cpus.empty()) hc["CpusetCpus"] = u.cpuset_cpus;
  if (!u.cpuset_mems.empty()) hc["CpusetMems"] = u.cpuset_mems;
  if (u.pids_limit) hc["PidsLimit"] = std::max<int64_t>(*u.pids_limit, 0);  // docker: 0 is none
  if (!u.restart.empty())
    hc["RestartPolicy"] = {{"Name", rec.restart}, {"MaximumRetryCount", rec.restart_max}};
}

}  // namespace

base::Status ContainerUpdate::check() const {
  if (memory) TRY_STATUS(check_memory_limit(*memory));
  if (cpu_shares && (*cpu_shares < 2 || *cpu_shares > 262144))
    return base::fail_msg(fmt::format("--cpu-shares {}: must be from 2 to 262144", *cpu_shares));
  if (!cpuset_cpus.empty()) TRY_STATUS(check_cpu_list(cpuset_cpus, "--cpuset-cpus", online_cpus()));
  if (!cpuset_mems.empty()) TRY_STATUS(check_cpu_list(cpuset_mems, "--cpuset-mems", -1));
  if (pids_limit && *pids_limit == 0)
    return base::fail_msg("--pids-limit 0: give a positive count, or -1 for no limit");
  if (!restart.empty()) {
    ContainerRecord scratch;
    TRY_STATUS(parse_restart_policy(restart, scratch));
  }
  return {};
}

base::Status update_container(const Paths& p, const std::string& id_or_name,
                              const ContainerUpdate& u) {
  TRY_STATUS(u.check());
  std::string id = TRY(find_container(p.root, id_or_name)).id;
  auto h = TRY(ContainerHandle::lock(p.root, id));
  ContainerRecord& rec = h.record();
  if (!u.restart.empty() && rec.auto_remove)
    return base::fail_msg(fmt::format(
        "container {}: its restart policy cannot change: it is removed when it exits (--rm)",
        rec.name));
  // The running cgroup first: a value the kernel refuses changes nothing.
  if (rec.state == "running" && monitor_alive(h.dir())) {
    auto state = oci::container_state(p.run_root, rec.id);
    std::string status = state ? state->value("status", "") : "";
    if (status == "running" || status == "paused" || status == "created") {
      auto live = oci::update_container(p.run_root, rec.id, resources_of(u));
      if (!live) return base::fail(live.error().context(fmt::format("container {}", rec.name)));
    }
  }
  std::string config_path = h.dir() + "/bundle/config.json";
  auto spec = nlohmann::json::parse(TRY(base::read_text(config_path)), nullptr, false);
  if (!spec.is_object())
    return base::fail_msg(fmt::format("container {}: its config.json is damaged", rec.name));
  apply_to_spec(u, spec);
  if (!u.restart.empty()) TRY_STATUS(parse_restart_policy(u.restart, rec));
  if (!rec.host_config.is_object()) rec.host_config = nlohmann::json::object();
  apply_to_host_config(u, rec, rec.host_config);
  TRY_STATUS(base::replace_file(config_path, spec.dump(2)));
  TRY_STATUS(h.save());
  record_container_event(p.root, rec, "update");
  return {};
}

}  // namespace berth
