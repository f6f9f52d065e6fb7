#include "berth/container/docker_view.h"

#include <fmt/format.h>

#include "base/text_file.h"
#include "berth/container/container_network.h"
#include "berth/container/health.h"
#include "berth/container/mount_options.h"
#include "berth/network/networks.h"
#include "berth/network/port_mapping.h"

namespace berth {
namespace {

using nlohmann::json;

// A list, or null when empty (docker's nil slice).
json list_or_null(const std::vector<std::string>& v) {
  return v.empty() ? json() : json(v);
}

// "NAME=VALUE" words as a map (sysctls).
json map_of(const std::vector<std::string>& words) {
  json out = json::object();
  for (const auto& w : words) {
    auto eq = w.find('=');
    out[w.substr(0, eq)] = eq == std::string::npos ? "" : w.substr(eq + 1);
  }
  return out;
}

// "80/tcp": [{"HostIp": .., "HostPort": ..}] for each published port.
json port_map(const json& ports, bool for_bindings) {
  json out = json::object();
  if (!ports.is_array()) return out;
  for (const auto& j : ports) {
    auto p = port_from_json(j);
    if (!p) continue;
    std::string key = fmt::format("{}/{}", p->container_port, p->protocol);
    std::string ip = p->host_ip.empty() && !for_bindings ? "0.0.0.0" : p->host_ip;
    out[key].push_back({{"HostIp", ip}, {"HostPort", std::to_string(p->host_port)}});
  }
  return out;
}

// docker's zero time for a start or finish that never happened.
std::string time_or_zero(const std::string& t) {
  return t.empty() ? "0001-01-01T00:00:00Z" : t;
}

json state_of(const ContainerRecord& rec, bool paused, const std::string& dir) {
  bool running = rec.state == "running";
  json out = {{"Status", paused ? "paused" : rec.state},
              {"Running", running},
              {"Paused", paused},
              {"Restarting", false},
              {"OOMKilled", rec.oom_killed},
              {"Dead", false},
              {"Pid", running ? rec.pid : 0},
              {"ExitCode", rec.exit_code},
              {"Error", ""},
              {"StartedAt", time_or_zero(rec.started)},
              {"FinishedAt", time_or_zero(rec.finished)}};
  if (has_health_checks(rec.config.value("Healthcheck", json()))) {
    json health = health_state(dir);
    out["Health"] = health.is_null()
                        ? json{{"Status", "starting"}, {"FailingStreak", 0}, {"Log", json::array()}}
                        : health;
  }
  return out;
}

json network_settings(const Paths& p, const ContainerRecord& rec) {
  json out = {{"Bridge", ""},
              {"SandboxID", ""},
              {"HairpinMode", false},
              {"LinkLocalIPv6Address", ""},
              {"LinkLocalIPv6PrefixLen", 0},
              {"Ports", json::object()},
              {"SandboxKey", ""},
              {"SecondaryIPAddresses", nullptr},
              {"SecondaryIPv6Addresses", nullptr},
              {"EndpointID", ""},
              {"Gateway", ""},
              {"GlobalIPv6Address", ""},
              {"GlobalIPv6PrefixLen", 0},
              {"IPAddress", ""},
              {"IPPrefixLen", 0},
              {"IPv6Gateway", ""},
              {"MacAddress", ""},
              {"Networks", json::object()}};
  const json& net = rec.network;
  std::string mode = net.value("mode", "none");
  if (mode != "bridge") {
    if (mode == "host" || mode == "none") out["Networks"][mode] = json::object();
    return out;
  }
  std::string name = net.value("name", std::string(kDefaultNetwork));
  bool is_default = name == kDefaultNetwork;
  std::string key = is_default ? "bridge" : name;  // docker's name for the default
  json endpoint = {{"IPAMConfig", nullptr},   {"Links", nullptr},         {"Aliases", nullptr},
                   {"NetworkID", ""},         {"EndpointID", ""},         {"Gateway", ""},
                   {"IPAddress", ""},         {"IPPrefixLen", 0},         {"IPv6Gateway", ""},
                   {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""},
                   {"DriverOpts", nullptr}};
  bool running = rec.state == "running" && net.contains("address");
  if (running) {
    Networks networks(p.root);
    if (auto n = networks.get(name)) {
      auto subnet = Subnet::parse(n->subnet);
      endpoint["NetworkID"] = n->name;
      endpoint["Gateway"] = n->gateway;
      endpoint["IPPrefixLen"] = subnet ? subnet->prefix : 0;
      out["Bridge"] = n->bridge;
    }
    endpoint["IPAddress"] = net["address"];
    endpoint["MacAddress"] = mac_of_address(net.value("address", ""));
    endpoint["EndpointID"] = "vb" + rec.id.substr(0, 12);
    out["Ports"] = port_map(net.value("ports", json::array()), false);
    out["SandboxKey"] = netns_path({p.root, p.run_root}, rec.id);
    if (is_default)  // docker fills the top-level fields for the default bridge only
      for (const char* f : {"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress"})
        out[f] = endpoint[f];
  }
  out["Networks"][key] = endpoint;
  // Networks `network connect` added, with their addresses while it runs.
  std::vector<Attachment> attached;
  if (running) attached = Networks(p.root).attachments_of(rec.id);
  for (const auto& extra : net.value("connected", json::array())) {
    if (!extra.is_string()) continue;
    std::string name_of = extra.get<std::string>();
    json e = endpoint;
    for (const char* f : {"NetworkID", "EndpointID", "Gateway", "IPAddress", "MacAddress"})
      e[f] = "";
    e["IPPrefixLen"] = 0;
    for (const auto& a : attached) {
      if (a.network != name_of) continue;
      if (auto n = Networks(p.root).get(name_of)) {
        auto subnet = Subnet::parse(n->subnet);
        e["NetworkID"] = n->name;
        e["Gateway"] = n->gateway;
        e["IPPrefixLen"] = subnet ? subnet->prefix : 0;
      }
      e["IPAddress"] = a.address;
      e["MacAddress"] = mac_of_address(a.address);
      e["EndpointID"] = a.host_veth;
    }
    out["Networks"][name_of == kDefaultNetwork ? "bridge" : name_of] = e;
  }
  return out;
}

}  // namespace

json docker_config(const RunOptions& o, const json& image_config, const json& spec) {
  const json ic = image_config.value("config", json::object());
  auto strings = [&](const char* key) { return ic.contains(key) ? ic[key] : json(); };
  json env = spec["process"].value("env", json::array());
  if (!env.empty() && env.back().get<std::string>().rfind("HOSTNAME=", 0) == 0)
    env.erase(env.size() - 1);  // berth's own, as docker adds it at run time only
  json exposed = ic.value("ExposedPorts", json::object());
  for (const auto& text : o.publish)
    if (auto m = parse_port_mapping(text))
      exposed[fmt::format("{}/{}", m->container_port, m->protocol)] = json::object();
  json labels = ic.value("Labels", json::object());
  if (!labels.is_object()) labels = json::object();
  for (const auto& [k, v] : o.labels) labels[k] = v;
  json out = {{"Hostname", spec.value("hostname", "")},
              {"Domainname", o.domainname},
              {"User", !o.user.empty() ? o.user : ic.value("User", "")},
              {"AttachStdin", o.interactive && !o.detach},
              {"AttachStdout", !o.detach},
              {"AttachStderr", !o.detach},
              {"ExposedPorts", exposed.empty() ? json() : exposed},
              {"Tty", o.tty},
              {"OpenStdin", o.interactive},
              {"StdinOnce", o.interactive && !o.detach},
              {"Env", env},
              {"Cmd", !o.command.empty() ? json(o.command)
                      : o.entrypoint     ? json()
                                         : strings("Cmd")},
              {"Image", o.image},
              {"Volumes", nullptr},
              {"WorkingDir", !o.workdir.empty() ? o.workdir : ic.value("WorkingDir", "")},
              {"Entrypoint", o.entrypoint ? (o.entrypoint->empty() ? json() : json({*o.entrypoint}))
                                          : strings("Entrypoint")},
              {"OnBuild", nullptr},
              {"Labels", labels}};
  if (!o.stop_signal.empty()) out["StopSignal"] = o.stop_signal;
  if (o.stop_timeout) out["StopTimeout"] = *o.stop_timeout;
  return out;
}

json docker_host_config(const RunOptions& o, const json& ports) {
  auto restart = o.restart;
  int max_retries = 0;
  if (restart.rfind("on-failure:", 0) == 0) {
    max_retries = std::atoi(restart.c_str() + 11);
    restart = "on-failure";
  }
  json tmpfs = json::object();
  for (const auto& t : o.tmpfs) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  json ulimits = json::array();
  for (const auto& u : o.ulimits) {
    auto eq = u.find('='), colon = u.find(':', eq);
    std::string soft = u.substr(eq + 1, colon == std::string::npos ? colon : colon - eq - 1);
    std::string hard = colon == std::string::npos ? soft : u.substr(colon + 1);
    ulimits.push_back({{"Name", u.substr(0, eq)},
                       {"Soft", std::atoll(soft.c_str())},
                       {"Hard", std::atoll(hard.c_str())}});
  }
  json devices = json::array();
  for (const auto& d : o.devices) {
    auto first = d.find(':');
    std::string host = d.substr(0, first), inside = host, perms = "rwm";
    if (first != std::string::npos) {
      std::string rest = d.substr(first + 1);
      auto second = rest.find(':');
      if (rest.front() == '/') {
        inside = rest.substr(0, second);
        if (second != std::string::npos) perms = rest.substr(second + 1);
      } else {
        perms = rest;
      }
    }
    devices.push_back(
        {{"PathOnHost", host}, {"PathInContainer", inside}, {"CgroupPermissions", perms}});
  }
  std::vector<std::string> security;
  if (!o.seccomp) security.emplace_back("seccomp=unconfined");
  if (o.no_new_privileges) security.emplace_back("no-new-privileges");
  json mounts = json::array();
  for (const auto& value : o.mounts) {
    auto m = parse_mount_flag(value);
    if (!m) continue;
    const char* type = m->kind == MountRequest::Kind::kBind     ? "bind"
                       : m->kind == MountRequest::Kind::kVolume ? "volume"
                                                                : "tmpfs";
    mounts.push_back({{"Type", type}, {"Source", m->source}, {"Target", m->target}});
    if (m->readonly) mounts.back()["ReadOnly"] = true;
  }
  return {{"Binds", list_or_null(o.volumes)},
          {"Mounts", mounts.empty() ? json() : mounts},
          {"ContainerIDFile", ""},
          {"LogConfig", {{"Type", "json-file"}, {"Config", json(o.log_options)}}},
          {"NetworkMode", o.network == kDefaultNetwork ? "default" : o.network},
          {"PortBindings", port_map(ports, true)},
          {"RestartPolicy", {{"Name", restart}, {"MaximumRetryCount", max_retries}}},
          {"AutoRemove", o.remove},
          {"CapAdd", list_or_null(o.cap_add)},
          {"CapDrop", list_or_null(o.cap_drop)},
          {"CgroupnsMode", o.cgroupns.empty() ? "private" : o.cgroupns},
          {"Dns", o.dns},
          {"DnsOptions", o.dns_options},
          {"DnsSearch", o.dns_search},
          {"ExtraHosts", list_or_null(o.add_hosts)},
          {"GroupAdd", list_or_null(o.group_add)},
          {"IpcMode", o.ipc.empty() ? "private" : o.ipc},
          {"OomScoreAdj", o.oom_score_adj.value_or(0)},
          {"PidMode", o.pid},
          {"Privileged", o.privileged},
          {"PublishAllPorts", o.publish_all},
          {"ReadonlyRootfs", o.read_only},
          {"SecurityOpt", list_or_null(security)},
          {"Tmpfs", tmpfs.empty() ? json() : tmpfs},
          {"UTSMode", o.uts},
          {"ShmSize", o.shm_size.value_or(int64_t{64} << 20)},
          {"Runtime", "berth-oci"},
          {"Init", o.init_path.empty() ? nlohmann::json() : nlohmann::json(true)},
          {"CpuShares", o.cpu_shares.value_or(0)},
          {"Memory", o.memory.value_or(0)},
          {"NanoCpus", o.cpus ? static_cast<int64_t>(*o.cpus * 1e9) : 0},
          {"CpusetCpus", o.cpuset_cpus},
          {"CpusetMems", o.cpuset_mems},
          {"Devices", devices},
          {"PidsLimit", o.pids_limit ? json(*o.pids_limit) : json()},
          {"Ulimits", ulimits.empty() ? json() : ulimits},
          {"Sysctls", o.sysctls.empty() ? json() : map_of(o.sysctls)}};
}

json docker_inspect(const Paths& p, const ContainerRecord& rec, const std::string& dir,
                    bool paused) {
  std::vector<std::string> args = rec.command;
  std::string path = args.empty() ? "" : args.front();
  if (!args.empty()) args.erase(args.begin());
  std::string lower = base::read_text(dir + "/lowerdirs").value_or("");
  json config = rec.config.is_object() ? rec.config : json::object();
  if (config.is_object() && !rec.labels.empty() && !config.contains("Labels"))
    config["Labels"] = rec.labels;
  return {{"Id", rec.id},
          {"Created", rec.created},
          {"Path", path},
          {"Args", args},
          {"State", state_of(rec, paused, dir)},
          {"Image", rec.image_id},
          {"ResolvConfPath", dir + "/resolv.conf"},
          {"HostnamePath", dir + "/hostname"},
          {"HostsPath", dir + "/hosts"},
          {"LogPath", dir + "/log"},
          {"Name", "/" + rec.name},
          {"RestartCount", rec.restart_count},
          {"Driver", "overlay"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"ExecIDs", nullptr},
          {"HostConfig", rec.host_config.is_object() ? rec.host_config : json::object()},
          {"GraphDriver",
           {{"Name", "overlay"},
            {"Data",
             {{"LowerDir", lower},
              {"MergedDir", dir + "/bundle/rootfs"},
              {"UpperDir", dir + "/upper"},
              {"WorkDir", dir + "/work"}}}}},
          {"Mounts", rec.mounts},
          {"Config", config},
          {"NetworkSettings", network_settings(p, rec)},
          {"Berth",
           {{"MonitorPid", rec.state == "running" ? rec.monitor_pid : 0},
            {"Bundle", dir + "/bundle"},
            {"StopRequested", rec.stop_requested}}}};
}

}  // namespace berth
