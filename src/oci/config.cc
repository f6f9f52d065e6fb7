#include "oci/config.h"

#include <functional>
#include <set>

#include <fmt/format.h>

#include "base/text_file.h"
#include "oci/json_fields.h"

namespace oci {
namespace {
using nlohmann::json;

base::Result<IdMapping> parse_mapping(const Fields& f) {
  IdMapping m;
  m.container_id = TRY(f.u32("containerID", true));
  m.host_id = TRY(f.u32("hostID", true));
  m.size = TRY(f.u32("size", true));
  if (m.size == 0) return base::fail_msg(fmt::format("{}: must be at least 1", f.at("size")));
  return m;
}

base::Result<Hook> parse_hook(const Fields& f) {
  Hook h;
  h.path = TRY(f.str("path", true));
  if (h.path.empty() || h.path.front() != '/')
    return base::fail_msg(fmt::format("{}: must be an absolute path", f.at("path")));
  h.args = TRY(f.strings("args"));
  h.env = TRY(f.strings("env"));
  if (auto t = TRY(f.integer("timeout", 1, 86400))) h.timeout = static_cast<int>(*t);
  return h;
}

base::Result<Process> parse_process(const Fields& f) {
  Process p;
  p.terminal = TRY(f.boolean("terminal"));
  if (f.has("consoleSize")) {
    Fields size = TRY(Fields::object(f.raw("consoleSize"), f.at("consoleSize")));
    p.console_height = TRY(size.u32("height", true));
    p.console_width = TRY(size.u32("width", true));
    if (p.console_height > 65535 || p.console_width > 65535)
      return base::fail_msg(
          fmt::format("{}: height and width must be below 65536", f.at("consoleSize")));
  }
  p.args = TRY(f.strings("args"));
  if (p.args.empty())
    return base::fail_msg(fmt::format("{}: must name the program to run", f.at("args")));
  p.env = TRY(f.strings("env"));
  for (size_t i = 0; i < p.env.size(); ++i)
    if (p.env[i].find('=') == std::string::npos)
      return base::fail_msg(fmt::format("{}[{}]: must be NAME=VALUE", f.at("env"), i));
  p.cwd = TRY(f.str("cwd", true));
  if (p.cwd.empty() || p.cwd.front() != '/')
    return base::fail_msg(fmt::format("{}: must be an absolute path", f.at("cwd")));
  if (f.has("user")) {
    Fields u = TRY(Fields::object(f.raw("user"), f.at("user")));
    p.user.uid = TRY(u.u32("uid", true));
    p.user.gid = TRY(u.u32("gid", true));
    if (auto m = TRY(u.integer("umask", 0, 0777))) p.user.umask = static_cast<uint32_t>(*m);
    if (u.has("additionalGids")) {
      const json& a = u.raw("additionalGids");
      if (!a.is_array())
        return base::fail_msg(fmt::format("{}: must be an array", u.at("additionalGids")));
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_number_unsigned() || a[i].get<uint64_t>() > UINT32_MAX)
          return base::fail_msg(
              fmt::format("{}[{}]: must be a group id", u.at("additionalGids"), i));
        p.user.additional_gids.push_back(a[i].get<uint32_t>());
      }
    }
  }
  if (f.has("capabilities")) {
    Fields c = TRY(Fields::object(f.raw("capabilities"), f.at("capabilities")));
    Capabilities caps;
    caps.bounding = TRY(c.strings("bounding"));
    caps.effective = TRY(c.strings("effective"));
    caps.inheritable = TRY(c.strings("inheritable"));
    caps.permitted = TRY(c.strings("permitted"));
    caps.ambient = TRY(c.strings("ambient"));
    p.capabilities = std::move(caps);
  }
  std::set<std::string> seen;
  p.rlimits = TRY(f.list<Rlimit>("rlimits", [&](const Fields& r) -> base::Result<Rlimit> {
    Rlimit l;
    l.type = TRY(r.str("type", true));
    if (l.type.rfind("RLIMIT_", 0) != 0)
      return base::fail_msg(fmt::format("{}: '{}' is not an RLIMIT_ name", r.at("type"), l.type));
    if (!seen.insert(l.type).second)
      return base::fail_msg(fmt::format("{}: {} given twice", r.at("type"), l.type));
    l.soft = TRY(r.u64("soft", true));
    l.hard = TRY(r.u64("hard", true));
    if (l.soft > l.hard)
      return base::fail_msg(fmt::format("{}: soft limit above hard limit", r.at("soft")));
    return l;
  }));
  p.no_new_privileges = TRY(f.boolean("noNewPrivileges"));
  p.apparmor_profile = TRY(f.str("apparmorProfile", false));
  p.selinux_label = TRY(f.str("selinuxLabel", false));
  if (auto o = TRY(f.integer("oomScoreAdj", -1000, 1000))) p.oom_score_adj = static_cast<int>(*o);
  return p;
}

base::Result<Linux> parse_linux(const Fields& f) {
  static const std::set<std::string> kTypes = {"pid", "network", "mount",  "ipc",
                                               "uts", "user",    "cgroup", "time"};
  static const std::set<std::string> kPropagation = {"",        "shared",     "slave",
                                                     "private", "unbindable", "rshared",
                                                     "rslave",  "rprivate",   "runbindable"};
  Linux l;
  std::set<std::string> seen;
  l.namespaces =
      TRY(f.list<Namespace>("namespaces", [&](const Fields& n) -> base::Result<Namespace> {
        Namespace ns;
        ns.type = TRY(n.str("type", true));
        if (!kTypes.count(ns.type))
          return base::fail_msg(
              fmt::format("{}: unknown namespace type '{}'", n.at("type"), ns.type));
        if (!seen.insert(ns.type).second)
          return base::fail_msg(fmt::format("{}: '{}' given twice", n.at("type"), ns.type));
        ns.path = TRY(n.str("path", false));
        if (!ns.path.empty() && ns.path.front() != '/')
          return base::fail_msg(fmt::format("{}: must be an absolute path", n.at("path")));
        return ns;
      }));
  l.uid_mappings = TRY(f.list<IdMapping>("uidMappings", parse_mapping));
  l.gid_mappings = TRY(f.list<IdMapping>("gidMappings", parse_mapping));
  if ((!l.uid_mappings.empty() || !l.gid_mappings.empty()) && !seen.count("user"))
    return base::fail_msg(
        fmt::format("{}: id mappings need a user namespace", f.at("uidMappings")));
  l.cgroups_path = TRY(f.str("cgroupsPath", false));
  l.sysctl = TRY(f.string_map("sysctl"));
  l.masked_paths = TRY(f.strings("maskedPaths"));
  l.readonly_paths = TRY(f.strings("readonlyPaths"));
  l.rootfs_propagation = TRY(f.str("rootfsPropagation", false));
  if (!kPropagation.count(l.rootfs_propagation))
    return base::fail_msg(fmt::format("{}: unknown propagation '{}'", f.at("rootfsPropagation"),
                                      l.rootfs_propagation));
  if (f.has("resources")) l.resources = f.raw("resources");
  if (f.has("seccomp")) l.seccomp = f.raw("seccomp");
  if (f.has("devices")) l.devices = f.raw("devices");
  l.mount_label = TRY(f.str("mountLabel", false));
  return l;
}

}  // namespace

base::Result<Config> parse_config(const json& j) {
  Fields f = TRY(Fields::object(j, ""));
  Config c;
  c.oci_version = TRY(f.str("ociVersion", true));
  if (c.oci_version.rfind("1.", 0) != 0)
    return base::fail_msg(fmt::format("ociVersion: '{}' is not a 1.x version", c.oci_version));
  if (f.has("process"))
    c.process = TRY(parse_process(TRY(Fields::object(f.raw("process"), "process"))));
  if (!f.has("root")) return base::fail_msg("root: required");
  Fields root = TRY(Fields::object(f.raw("root"), "root"));
  c.root_path = TRY(root.str("path", true));
  if (c.root_path.empty()) return base::fail_msg("root.path: must not be empty");
  c.root_readonly = TRY(root.boolean("readonly"));
  c.hostname = TRY(f.str("hostname", false));
  c.domainname = TRY(f.str("domainname", false));
  c.mounts = TRY(f.list<Mount>("mounts", [](const Fields& m) -> base::Result<Mount> {
    Mount mt;
    mt.destination = TRY(m.str("destination", true));
    if (mt.destination.empty() || mt.destination.front() != '/')
      return base::fail_msg(fmt::format("{}: must be an absolute path", m.at("destination")));
    mt.type = TRY(m.str("type", false));
    mt.source = TRY(m.str("source", false));
    mt.options = TRY(m.strings("options"));
    return mt;
  }));
  if (f.has("hooks")) {
    Fields h = TRY(Fields::object(f.raw("hooks"), "hooks"));
    c.hooks.prestart = TRY(h.list<Hook>("prestart", parse_hook));
    c.hooks.create_runtime = TRY(h.list<Hook>("createRuntime", parse_hook));
    c.hooks.create_container = TRY(h.list<Hook>("createContainer", parse_hook));
    c.hooks.start_container = TRY(h.list<Hook>("startContainer", parse_hook));
    c.hooks.poststart = TRY(h.list<Hook>("poststart", parse_hook));
    c.hooks.poststop = TRY(h.list<Hook>("poststop", parse_hook));
  }
  c.annotations = TRY(f.string_map("annotations"));
  if (f.has("linux"))
    c.linux_section = TRY(parse_linux(TRY(Fields::object(f.raw("linux"), "linux"))));
  return c;
}

base::Result<Process> parse_process_json(const nlohmann::json& j, const std::string& path) {
  return parse_process(TRY(Fields::object(j, path)));
}

base::Result<Config> load_config(const std::string& path) {
  std::string text = TRY(base::read_text(path));
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return base::fail_msg(fmt::format("{}: not valid JSON", path));
  auto c = parse_config(j);
  if (!c) return base::fail(std::move(c).error().context(path));
  return c;
}

}  // namespace oci
