#include "oci/config.h"

#include <cerrno>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace oci {
namespace {
using nlohmann::json;

// Reads fields of one JSON object, naming each by its path in errors.
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  static base::Result<Fields> object(const json& j, const std::string& path) {
    if (!j.is_object()) return base::fail_msg(fmt::format("{}: must be an object", path));
    return Fields(j, path);
  }
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  std::string at(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const json& raw(const char* key) const { return j_[key]; }

  base::Result<std::string> str(const char* key, bool required) const {
    if (!has(key)) {
      if (required) return base::fail_msg(fmt::format("{}: required", at(key)));
      return std::string();
    }
    if (!j_[key].is_string()) return base::fail_msg(fmt::format("{}: must be a string", at(key)));
    return j_[key].get<std::string>();
  }
  base::Result<bool> boolean(const char* key) const {
    if (!has(key)) return false;
    if (!j_[key].is_boolean())
      return base::fail_msg(fmt::format("{}: must be true or false", at(key)));
    return j_[key].get<bool>();
  }
  // An integer within [lo, hi].
  base::Result<std::optional<int64_t>> integer(const char* key, int64_t lo, int64_t hi) const {
    if (!has(key)) return std::optional<int64_t>();
    const json& v = j_[key];
    if (!v.is_number_integer())
      return base::fail_msg(fmt::format("{}: must be an integer", at(key)));
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(hi)
                               : (v.get<int64_t>() < lo || v.get<int64_t>() > hi))
      return base::fail_msg(fmt::format("{}: must be between {} and {}", at(key), lo, hi));
    return std::optional<int64_t>(v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>())
                                                         : v.get<int64_t>());
  }
  base::Result<uint32_t> u32(const char* key, bool required) const {
    auto v = TRY(integer(key, 0, UINT32_MAX));
    if (!v && required) return base::fail_msg(fmt::format("{}: required", at(key)));
    return static_cast<uint32_t>(v.value_or(0));
  }
  base::Result<uint64_t> u64(const char* key, bool required) const {
    if (!has(key)) {
      if (required) return base::fail_msg(fmt::format("{}: required", at(key)));
      return uint64_t{0};
    }
    if (!j_[key].is_number_unsigned() &&
        !(j_[key].is_number_integer() && j_[key].get<int64_t>() >= 0))
      return base::fail_msg(fmt::format("{}: must be a non-negative integer", at(key)));
    return j_[key].get<uint64_t>();
  }
  base::Result<std::vector<std::string>> strings(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    if (!j_[key].is_array())
      return base::fail_msg(fmt::format("{}: must be an array of strings", at(key)));
    for (size_t i = 0; i < j_[key].size(); ++i) {
      if (!j_[key][i].is_string())
        return base::fail_msg(fmt::format("{}[{}]: must be a string", at(key), i));
      out.push_back(j_[key][i].get<std::string>());
    }
    return out;
  }
  base::Result<std::map<std::string, std::string>> string_map(const char* key) const {
    std::map<std::string, std::string> out;
    if (!has(key)) return out;
    if (!j_[key].is_object()) return base::fail_msg(fmt::format("{}: must be an object", at(key)));
    for (const auto& [k, v] : j_[key].items()) {
      if (!v.is_string()) return base::fail_msg(fmt::format("{}.{}: must be a string", at(key), k));
      out[k] = v.get<std::string>();
    }
    return out;
  }
  // Each element of an array of objects, parsed by `each`.
  template <typename T>
  base::Result<std::vector<T>> list(
      const char* key, const std::function<base::Result<T>(const Fields&)>& each) const {
    std::vector<T> out;
    if (!has(key)) return out;
    if (!j_[key].is_array()) return base::fail_msg(fmt::format("{}: must be an array", at(key)));
    for (size_t i = 0; i < j_[key].size(); ++i)
      out.push_back(TRY(each(TRY(object(j_[key][i], fmt::format("{}[{}]", at(key), i))))));
    return out;
  }

 private:
  const json& j_;
  std::string path_;
};

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

base::Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::fail(base::Error::sys(errno, "open", path));
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return base::fail_msg(fmt::format("{}: not valid JSON", path));
  auto c = parse_config(j);
  if (!c) return base::fail(std::move(c).error().context(path));
  return c;
}

}  // namespace oci
