#include "berth/container/container_spec.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"
#include "berth/container/default_seccomp.h"
#include "berth/container/spec_options.h"
#include "oci/default_spec.h"

namespace berth {
namespace {

const std::vector<std::string> kDockerCapabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

constexpr int64_t kDefaultPidsLimit = 2048;

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& s : j)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

bool numeric(const std::string& s) {
  return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// The fields of the line of a passwd/group file whose first field is `name`.
std::vector<std::string> entry_named(const std::string& file, const std::string& name) {
  size_t start = 0;
  while (start < file.size()) {
    size_t nl = file.find('\n', start);
    std::string line = file.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? file.size() : nl + 1;
    std::vector<std::string> fields;
    for (size_t f = 0;;) {
      size_t colon = line.find(':', f);
      fields.push_back(line.substr(f, colon == std::string::npos ? std::string::npos : colon - f));
      if (colon == std::string::npos) break;
      f = colon + 1;
    }
    if (fields.size() >= 4 && fields[0] == name) return fields;
  }
  return {};
}

}  // namespace

base::Result<uint64_t> group_id_of(const std::string& group, const SpecPaths& files,
                                   std::string_view what) {
  if (numeric(group)) return std::stoull(group);
  if (!files.group_error.empty())
    return base::fail_msg(fmt::format("{}: {}", what, files.group_error));
  auto gr = entry_named(files.group, group);
  if (group.empty() || gr.empty() || !numeric(gr[2]))
    return base::fail_msg(fmt::format("{}: no group '{}' in the image's /etc/group", what, group));
  return std::stoull(gr[2]);
}

// USER[:GROUP], each a number or a name from the image's passwd/group files.
base::Result<nlohmann::json> user_of(const std::string& user, const SpecPaths& files,
                                     std::string_view flag) {
  auto colon = user.find(':');
  std::string u = user.substr(0, colon);
  std::string g = colon == std::string::npos ? "" : user.substr(colon + 1);
  uint64_t uid = 0, gid = 0;
  std::string user_name;
  if (numeric(u)) {
    uid = std::stoull(u);
  } else {
    if (!files.passwd_error.empty())
      return base::fail_msg(fmt::format("{} '{}': {}", flag, user, files.passwd_error));
    auto pw = entry_named(files.passwd, u);
    if (pw.empty() || !numeric(pw[2]) || !numeric(pw[3]))
      return base::fail_msg(
          fmt::format("{} '{}': no user '{}' in the image's /etc/passwd", flag, user, u));
    uid = std::stoull(pw[2]);
    gid = std::stoull(pw[3]);
    user_name = u;
  }
  if (!g.empty()) {
    gid = TRY(group_id_of(g, files, fmt::format("{} '{}'", flag, user)));
  }
  // 4294967295 is (uid_t)-1: "leave the owner as it is" to chown.
  if (uid >= UINT32_MAX || gid >= UINT32_MAX)
    return base::fail_msg(fmt::format("{} '{}': ids must be below 4294967295", flag, user));
  nlohmann::json out = {{"uid", uid}, {"gid", gid}};
  // Supplementary groups: those of the group file that list the user by name.
  if (!user_name.empty()) {
    nlohmann::json extra = nlohmann::json::array();
    size_t start = 0;
    while (start < files.group.size()) {
      size_t nl = files.group.find('\n', start);
      std::string line =
          files.group.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? files.group.size() : nl + 1;
      auto last = line.rfind(':');
      auto parts = entry_named(line, line.substr(0, line.find(':')));
      if (last == std::string::npos || parts.size() < 4 || !numeric(parts[2])) continue;
      std::string members = "," + line.substr(last + 1) + ",";
      if (members.find("," + user_name + ",") != std::string::npos)
        extra.push_back(std::stoull(parts[2]));
    }
    if (!extra.empty()) out["additionalGids"] = extra;
  }
  return out;
}

namespace {

// runc's default spec made as strict as a container engine's: /proc
// nosuid, noexec, nodev (Docker's), /dev noexec as well, and the powercap
// counters (an energy side channel, masked by Docker) hidden.
void harden_defaults(nlohmann::json& spec) {
  for (auto& m : spec["mounts"]) {
    if (m["destination"] == "/proc") m["options"] = {"nosuid", "noexec", "nodev"};
    if (m["destination"] == "/dev") m["options"].push_back("noexec");
  }
  spec["linux"]["maskedPaths"].push_back("/sys/devices/virtual/powercap");
}

}  // namespace

namespace {

// An image's /etc/passwd and /etc/group are small; a bigger one is refused.
constexpr size_t kMaxImageUserFile = size_t{1} << 20;

// The image's file at `path` ("etc/passwd"), from the topmost layer that has
// it, read beneath that layer's directory: no symlink in the image reaches
// a host file, and a device or FIFO is refused. "" when no layer has it or
// a layer deleted it (an overlay whiteout).
base::Result<std::string> image_file(const std::vector<std::string>& layers,
                                     const std::string& path) {
  std::string what = "the image's /" + path;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    base::UniqueFd layer = TRY(base::sys::open(*it, O_PATH | O_DIRECTORY));
    auto text = base::read_regular_beneath(layer.get(), path, kMaxImageUserFile, what);
    if (text) return text;
    // A whiteout (a 0:0 device) means a layer above the rest deleted it.
    auto entry = base::sys::openat2(layer.get(), path, O_PATH | O_NOFOLLOW, 0,
                                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, what);
    auto st = entry ? base::sys::fstat(entry->get(), what) : base::fail(entry.error());
    if (st && S_ISCHR(st->st_mode) && st->st_rdev == 0) return std::string();
    if (text.error().code() != ENOENT) return text;
  }
  return std::string();
}

}  // namespace

void read_accounts(const std::vector<std::string>& layers, SpecPaths& paths) {
  if (auto passwd = image_file(layers, "etc/passwd"))
    paths.passwd = *passwd;
  else
    paths.passwd_error = passwd.error().message();
  if (auto group = image_file(layers, "etc/group"))
    paths.group = *group;
  else
    paths.group_error = group.error().message();
}

base::Result<nlohmann::json> make_spec(const RunOptions& o, const nlohmann::json& image_config,
                                       const std::string& id, const SpecPaths& paths) {
  nlohmann::json spec = oci::default_spec(false, 0, 0);
  harden_defaults(spec);
  const nlohmann::json ic = image_config.value("config", nlohmann::json::object());
  std::vector<std::string> args =
      o.entrypoint ? (o.entrypoint->empty() ? std::vector<std::string>{}
                                            : std::vector<std::string>{*o.entrypoint})
                   : strings_of(ic.value("Entrypoint", nlohmann::json()));
  // --entrypoint drops the image's Cmd as well, as docker's does.
  std::vector<std::string> cmd = !o.command.empty() ? o.command
                                 : o.entrypoint     ? std::vector<std::string>{}
                                                    : strings_of(ic.value("Cmd", nlohmann::json()));
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty())
    return base::fail_msg(
        fmt::format("{}: the image has no command; give one after the image", o.image));

  std::vector<std::string> env = strings_of(ic.value("Env", nlohmann::json()));
  for (std::string e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos && !e.empty()) {  // -e NAME: the value berth has, as docker does
      const char* value = std::getenv(e.c_str());
      if (!value) continue;
      eq = e.size();
      e += std::string("=") + value;
    }
    if (eq == std::string::npos || eq == 0)
      return base::fail_msg(fmt::format("-e '{}': must be NAME=VALUE or NAME", e));
    std::erase_if(env, [&](const std::string& x) { return x.rfind(e.substr(0, eq + 1), 0) == 0; });
    env.push_back(e);
  }
  env.push_back("HOSTNAME=" + (o.hostname.empty() ? id.substr(0, 12) : o.hostname));

  auto& p = spec["process"];
  p["terminal"] = o.tty;
  p["args"] = args;
  p["env"] = env;
  p["cwd"] = !o.workdir.empty()                              ? o.workdir
             : ic.value("WorkingDir", std::string()).empty() ? "/"
                                                             : ic.value("WorkingDir", "/");
  if (p["cwd"].get<std::string>().front() != '/')
    return base::fail_msg("-w: must be an absolute path");
  std::string user = !o.user.empty() ? o.user : ic.value("User", std::string());
  if (!user.empty()) p["user"] = TRY(user_of(user, paths));
  auto caps = TRY(capabilities_of(o, kDockerCapabilities));
  p["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  p.erase("rlimits");
  p["noNewPrivileges"] = o.no_new_privileges;

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
  for (const auto& m : paths.mounts) mounts.push_back(m);

  auto& l = spec["linux"];
  l["cgroupsPath"] = "/berth/" + id;
  if (o.seccomp) l["seccomp"] = default_seccomp_profile();
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
  } else if (!paths.netns.empty()) {
    for (auto& n : l["namespaces"])
      if (n["type"] == "network") n["path"] = paths.netns;
  }
  if (o.memory) l["resources"]["memory"] = {{"limit", *o.memory}};
  if (o.cpus)
    l["resources"]["cpu"] = {{"quota", static_cast<int64_t>(*o.cpus * 100000)}, {"period", 100000}};
  // podman's default: a fork bomb stops at 2048 processes; -1 (or 0) for none.
  int64_t pids = o.pids_limit.value_or(kDefaultPidsLimit);
  if (pids > 0) l["resources"]["pids"] = {{"limit", pids}};
  TRY_STATUS(apply_spec_options(o, paths, spec));
  return spec;
}

base::Result<std::vector<std::string>> read_env_file(const std::string& path) {
  std::string text = TRY_CTX(base::read_text_capped(path, size_t{1} << 20), "--env-file");
  std::vector<std::string> out;
  size_t start = 0, number = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find('\0') != std::string::npos)  // it would cut the value short
      return base::fail_msg(
          fmt::format("--env-file {} line {}: contains a NUL byte", path, number));
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
