#include "berth/container_spec.h"

#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>

#include "base/text_file.h"
#include "oci/default_spec.h"

namespace berth {
namespace {

const std::vector<std::string> kDockerCapabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& s : j)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

base::Result<nlohmann::json> user_of(const std::string& user) {
  auto colon = user.find(':');
  std::string u = user.substr(0, colon),
              g = colon == std::string::npos ? "0" : user.substr(colon + 1);
  auto numeric = [](const std::string& s) {
    return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!numeric(u) || !numeric(g))
    return base::fail_msg(fmt::format(
        "--user '{}': give numeric UID[:GID] (user names are not looked up yet)", user));
  return nlohmann::json{{"uid", std::stoul(u)}, {"gid", std::stoul(g)}};
}

}  // namespace

base::Result<nlohmann::json> make_spec(const RunOptions& o, const nlohmann::json& image_config,
                                       const std::string& id, const SpecPaths& paths) {
  nlohmann::json spec = oci::default_spec(false, 0, 0);
  const nlohmann::json ic = image_config.value("config", nlohmann::json::object());
  std::vector<std::string> args =
      o.entrypoint ? (o.entrypoint->empty() ? std::vector<std::string>{}
                                            : std::vector<std::string>{*o.entrypoint})
                   : strings_of(ic.value("Entrypoint", nlohmann::json()));
  std::vector<std::string> cmd =
      o.command.empty() ? strings_of(ic.value("Cmd", nlohmann::json())) : o.command;
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty())
    return base::fail_msg(
        fmt::format("{}: the image has no command; give one after the image", o.image));

  std::vector<std::string> env = strings_of(ic.value("Env", nlohmann::json()));
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::fail_msg(fmt::format("-e '{}': must be NAME=VALUE", e));
    std::erase_if(env, [&](const std::string& x) { return x.rfind(e.substr(0, eq + 1), 0) == 0; });
    env.push_back(e);
  }
  env.push_back("HOSTNAME=" + (o.hostname.empty() ? id.substr(0, 12) : o.hostname));

  auto& p = spec["process"];
  p["terminal"] = false;
  p["args"] = args;
  p["env"] = env;
  p["cwd"] = !o.workdir.empty()                              ? o.workdir
             : ic.value("WorkingDir", std::string()).empty() ? "/"
                                                             : ic.value("WorkingDir", "/");
  if (p["cwd"].get<std::string>().front() != '/')
    return base::fail_msg("-w: must be an absolute path");
  std::string user = !o.user.empty() ? o.user : ic.value("User", std::string());
  if (!user.empty()) p["user"] = TRY(user_of(user));
  p["capabilities"] = {{"bounding", kDockerCapabilities},
                       {"effective", kDockerCapabilities},
                       {"permitted", kDockerCapabilities}};
  p.erase("rlimits");
  p["noNewPrivileges"] = false;

  spec["root"] = {{"path", paths.rootfs}, {"readonly", o.read_only}};
  spec["hostname"] = o.hostname.empty() ? id.substr(0, 12) : o.hostname;
  auto& mounts = spec["mounts"];
  for (const auto& [file, dest] :
       {std::pair{paths.hosts, "/etc/hosts"}, std::pair{paths.hostname, "/etc/hostname"},
        std::pair{paths.resolv_conf, "/etc/resolv.conf"}})
    mounts.push_back({{"destination", dest},
                      {"type", "bind"},
                      {"source", file},
                      {"options", {"rbind", "rprivate"}}});
  for (const auto& v : o.volumes) {
    auto first = v.find(':');
    if (first == std::string::npos || first == 0)
      return base::fail_msg(fmt::format("-v '{}': must be HOST:CONTAINER[:ro]", v));
    std::string host = v.substr(0, first), rest = v.substr(first + 1), mode = "rw";
    if (auto second = rest.find(':'); second != std::string::npos) {
      mode = rest.substr(second + 1);
      rest = rest.substr(0, second);
    }
    if (host.front() != '/' || rest.empty() || rest.front() != '/' ||
        (mode != "ro" && mode != "rw"))
      return base::fail_msg(fmt::format("-v '{}': must be /HOST:/CONTAINER[:ro]", v));
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0)
      return base::fail_msg(fmt::format("-v '{}': {} does not exist", v, host));
    mounts.push_back(
        {{"destination", rest}, {"type", "bind"}, {"source", host}, {"options", {"rbind", mode}}});
  }

  auto& l = spec["linux"];
  l["cgroupsPath"] = "/berth/" + id;
  if (o.network == "host") {
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& n : l["namespaces"])
      if (n["type"] != "network") kept.push_back(n);
    l["namespaces"] = kept;
    for (auto& m : mounts)  // a sysfs of the host's network namespace cannot be mounted anew
      if (m["destination"] == "/sys")
        m = {{"destination", "/sys"},
             {"type", "bind"},
             {"source", "/sys"},
             {"options", {"rbind", "ro", "nosuid", "noexec", "nodev"}}};
  } else if (o.network != "none") {
    return base::fail_msg(fmt::format(
        "--network '{}': only none and host exist (bridge networking is next)", o.network));
  }
  if (o.memory) l["resources"]["memory"] = {{"limit", *o.memory}};
  if (o.cpus)
    l["resources"]["cpu"] = {{"quota", static_cast<int64_t>(*o.cpus * 100000)}, {"period", 100000}};
  if (o.pids_limit) l["resources"]["pids"] = {{"limit", *o.pids_limit}};
  return spec;
}

base::Result<std::vector<std::string>> read_env_file(const std::string& path) {
  std::string text = TRY_CTX(base::read_text(path), "--env-file");
  std::vector<std::string> out;
  size_t start = 0, number = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    size_t eq = line.find('=');
    std::string name = line.substr(0, eq);
    if (name.empty() || name.find_first_of(" \t") != std::string::npos)
      return base::fail_msg(
          fmt::format("--env-file {} line {}: '{}' is not NAME=VALUE", path, number, line));
    if (eq == std::string::npos) {
      const char* value = ::getenv(name.c_str());
      if (value) out.push_back(name + "=" + value);
      continue;
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace berth
