#include "berth/container/spec_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "berth/container/mount_options.h"
#include "oci/names.h"

namespace berth {
namespace {

// Where --init's berth-init appears inside (docker's is /sbin/docker-init).
constexpr const char* kInitPath = "/sbin/berth-init";
// docker's least --memory: below it a container cannot even start.
constexpr int64_t kMinimumMemory = int64_t{6} << 20;

bool numeric(const std::string& s) {
  return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// "net_admin", "CAP_NET_ADMIN", "all" -> "CAP_NET_ADMIN", "ALL" (docker's normalization).
base::Result<std::vector<std::string>> normalized_caps(const std::vector<std::string>& names,
                                                       std::string_view flag) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    std::string upper = n;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (upper == "ALL") {
      out.push_back(upper);
      continue;
    }
    if (upper.rfind("CAP_", 0) != 0) upper.insert(0, "CAP_");
    if (!oci::capability_from_name(upper))
      return base::fail_msg(fmt::format("{} '{}': unknown capability", flag, n));
    out.push_back(upper);
  }
  return out;
}

// Every character and block device below /dev on the host, as spec devices
// (docker's --privileged), skipping the container's own /dev/pts, shm, mqueue.
nlohmann::json host_devices() {
  nlohmann::json out = nlohmann::json::array();
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(
      "/dev", std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (path == "/dev/pts" || path == "/dev/shm" || path == "/dev/mqueue" ||
        path == "/dev/console") {
      it.disable_recursion_pending();
      continue;
    }
    auto found = base::sys::fstatat(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
    if (!found || !(S_ISCHR(found->st_mode) || S_ISBLK(found->st_mode))) continue;
    const struct stat& st = *found;
    out.push_back({{"path", path},
                   {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                   {"major", major(st.st_rdev)},
                   {"minor", minor(st.st_rdev)},
                   {"fileMode", st.st_mode & 07777},
                   {"uid", 0},
                   {"gid", 0}});
  }
  return out;
}

// --device HOST[:CONTAINER][:PERMS] -> a spec device and its cgroup rule.
base::Status add_device(const std::string& value, nlohmann::json& spec) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    auto colon = value.find(':', start);
    parts.push_back(value.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::string perms = "rwm";
  auto is_perms = [](const std::string& s) {
    return !s.empty() && s.size() <= 3 && s.find_first_not_of("rwm") == std::string::npos;
  };
  if (parts.size() == 3 || (parts.size() == 2 && is_perms(parts[1]))) {
    perms = parts.back();
    parts.pop_back();
  }
  if (parts.size() > 2 || !is_perms(perms) || !plain_absolute(parts[0]) ||
      (parts.size() == 2 && !plain_absolute(parts[1])))
    return base::fail_msg(
        fmt::format("--device '{}': must be /HOST[:/CONTAINER][:PERMISSIONS of rwm]", value));
  auto found = base::sys::fstatat(AT_FDCWD, parts[0], 0);
  if (!found || !(S_ISCHR(found->st_mode) || S_ISBLK(found->st_mode)))
    return base::fail_msg(
        fmt::format("--device '{}': {} is not a device on this host", value, parts[0]));
  const struct stat& st = *found;
  std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
  spec["linux"]["devices"].push_back({{"path", parts.size() == 2 ? parts[1] : parts[0]},
                                      {"type", type},
                                      {"major", major(st.st_rdev)},
                                      {"minor", minor(st.st_rdev)},
                                      {"fileMode", st.st_mode & 07777},
                                      {"uid", 0},
                                      {"gid", 0}});
  spec["linux"]["resources"]["devices"].push_back({{"allow", true},
                                                   {"type", type},
                                                   {"major", major(st.st_rdev)},
                                                   {"minor", minor(st.st_rdev)},
                                                   {"access", perms}});
  return {};
}

// The options a tmpfs may take (docker's list): mount flags, and these with values.
bool tmpfs_option(const std::string& opt) {
  static const char* const kFlags[] = {
      "ro",         "rw",       "exec",       "noexec",      "suid",         "nosuid",  "dev",
      "nodev",      "sync",     "async",      "dirsync",     "atime",        "noatime", "diratime",
      "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime"};
  for (const char* f : kFlags)
    if (opt == f) return true;
  auto eq = opt.find('=');
  if (eq == std::string::npos || eq + 1 == opt.size()) return false;
  std::string key = opt.substr(0, eq), value = opt.substr(eq + 1);
  for (const char* k : {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"})
    if (key == k) return value.find_first_of(",\n") == std::string::npos;
  return false;
}

// --tmpfs PATH[:OPTIONS]; docker's defaults are noexec, nosuid, nodev.
base::Status add_tmpfs(const std::string& value, nlohmann::json& mounts) {
  auto colon = value.find(':');
  std::string path = value.substr(0, colon);
  if (!plain_absolute(path))
    return base::fail_msg(
        fmt::format("--tmpfs '{}': the path must be absolute, without '..' or '.'", value));
  nlohmann::json options = {"noexec", "nosuid", "nodev"};
  if (colon != std::string::npos) {
    std::string rest = value.substr(colon + 1);
    for (size_t start = 0; start <= rest.size();) {
      auto comma = rest.find(',', start);
      std::string opt = rest.substr(start, comma == std::string::npos ? comma : comma - start);
      start = comma == std::string::npos ? rest.size() + 1 : comma + 1;
      if (opt.empty()) continue;
      if (!tmpfs_option(opt))
        return base::fail_msg(fmt::format(
            "--tmpfs '{}': option '{}' is not one a tmpfs takes (size=, mode=, uid=, gid=, "
            "nr_inodes=, mpol=, and mount flags such as ro, exec, noatime)",
            value, opt));
      // A later word wins over a default it contradicts, as in mount(8).
      for (const auto& pair : {std::pair{"exec", "noexec"}, {"suid", "nosuid"}, {"dev", "nodev"}})
        if (opt == pair.first || opt == pair.second)
          options.erase(std::remove_if(options.begin(), options.end(),
                                       [&](const nlohmann::json& o) {
                                         return o == pair.first || o == pair.second;
                                       }),
                        options.end());
      options.push_back(opt);
    }
  }
  mounts.push_back(
      {{"destination", path}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
  return {};
}

// Sysctls a container may set: those of its own namespaces (docker's list).
base::Status check_sysctl(const std::string& name, const RunOptions& o) {
  auto starts = [&](std::string_view p) { return name.rfind(p, 0) == 0; };
  bool ipc = name == "kernel.msgmax" || name == "kernel.msgmnb" || name == "kernel.msgmni" ||
             name == "kernel.sem" || name == "kernel.shmall" || name == "kernel.shmmax" ||
             name == "kernel.shmmni" || name == "kernel.shm_rmid_forced" || starts("fs.mqueue.");
  if (ipc && o.ipc != "host") return {};
  if (starts("net.") && o.network != "host") return {};
  if ((name == "kernel.domainname" || name == "kernel.hostname") && o.uts != "host") return {};
  return base::fail_msg(fmt::format(
      "--sysctl {}: not allowed: only sysctls of the container's own namespaces (net.*, "
      "kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) can be set",
      name));
}

base::Result<nlohmann::json> rlimit_of(const std::string& value) {
  auto eq = value.find('=');
  std::string name = value.substr(0, eq);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto bad = [&] {
    return base::fail_msg(fmt::format(
        "--ulimit '{}': must be NAME=SOFT[:HARD] (numbers, or -1 for unlimited)", value));
  };
  if (eq == std::string::npos || name.empty() || !oci::rlimit_from_name("RLIMIT_" + name))
    return bad();
  std::string limits = value.substr(eq + 1);
  auto colon = limits.find(':');
  auto number = [](const std::string& s) -> std::optional<uint64_t> {
    if (s == "-1") return UINT64_MAX;
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoull(s);
  };
  auto soft = number(limits.substr(0, colon));
  auto hard = colon == std::string::npos ? soft : number(limits.substr(colon + 1));
  if (!soft || !hard) return bad();
  if (*soft > *hard)
    return base::fail_msg(
        fmt::format("--ulimit '{}': the soft limit is above the hard limit", value));
  return nlohmann::json{{"type", "RLIMIT_" + name}, {"soft", *soft}, {"hard", *hard}};
}

void drop_namespace(nlohmann::json& spec, std::string_view type) {
  auto& ns = spec["linux"]["namespaces"];
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& n : ns)
    if (n["type"] != type) kept.push_back(n);
  ns = kept;
}

base::Status namespace_mode(const std::string& value, std::string_view flag, std::string_view type,
                            nlohmann::json& spec) {
  if (value.empty() || value == "private" || (type == "ipc" && value == "shareable")) return {};
  if (value == "host") {
    drop_namespace(spec, type);
    return {};
  }
  return base::fail_msg(fmt::format("{} '{}': supported are host and private", flag, value));
}

// The capabilities berth itself may pass on: every one the kernel has that
// is in our bounding set (a host may withhold some, as this one does
// CAP_SYS_RESOURCE; asking for it would fail the start).
std::vector<std::string> grantable_capabilities() {
  uint64_t bounding = ~uint64_t{0};
  std::string status = base::read_text("/proc/self/status").value_or("");
  if (auto at = status.find("\nCapBnd:\t"); at != std::string::npos)
    bounding = std::strtoull(status.c_str() + at + 9, nullptr, 16);
  std::vector<std::string> out;
  for (const auto& name : oci::all_capability_names()) {
    auto number = oci::capability_from_name(name);
    if (number && *number < 64 && (bounding >> *number & 1)) out.push_back(name);
  }
  return out;
}

// The mounts after the runtime's own (/proc, /dev ...) in docker's order:
// fewer path names first, so `--tmpfs /data` never hides `-v X:/data/db`
// nor a tmpfs on /etc the engine's /etc/hosts (a stable sort: ties keep
// the order they were given in).
void sort_mounts(nlohmann::json& mounts) {
  static const std::vector<std::string> kRuntime = {
      "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"};
  std::vector<nlohmann::json> head, rest;
  for (auto& m : mounts)
    (rest.empty() && contains(kRuntime, m.value("destination", "")) ? head : rest)
        .push_back(std::move(m));
  auto depth = [](const nlohmann::json& m) {
    std::string d = m.value("destination", "");
    return std::count(d.begin(), d.end(), '/');
  };
  std::stable_sort(rest.begin(), rest.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    return depth(a) < depth(b);
  });
  mounts = nlohmann::json::array();
  for (auto& m : head) mounts.push_back(std::move(m));
  for (auto& m : rest) mounts.push_back(std::move(m));
}

}  // namespace

long online_cpus() {
  return ::sysconf(_SC_NPROCESSORS_ONLN);
}

base::Result<double> parse_cpus(const std::string& text) {
  char* end = nullptr;
  double cpus = std::strtod(text.c_str(), &end);
  long online = online_cpus();
  if (text.empty() || *end != '\0' || !(cpus >= 0.01) || cpus > static_cast<double>(online))
    return base::fail_msg(
        fmt::format("--cpus {}: must be from 0.01 to {}, the CPUs this host has", text, online));
  return cpus;
}

base::Status check_memory_limit(int64_t bytes) {
  if (bytes < kMinimumMemory)
    return base::fail_msg(
        fmt::format("--memory {}: must be at least 6 MiB (6291456 bytes)", bytes));
  return {};
}

base::Status check_memory_swap(const std::string& text) {
  if (text == "-1") return {};
  return base::fail_msg(fmt::format(
      "--memory-swap '{}': berth does not limit swap apart from memory; only -1 is accepted",
      text));
}

base::Status check_cpu_list(const std::string& value, const char* flag, long count) {
  bool ok = true;
  uint64_t highest = 0;
  for (size_t start = 0; ok && start <= value.size();) {
    size_t comma = value.find(',', start);
    std::string item = value.substr(start, comma == std::string::npos ? comma : comma - start);
    start = comma == std::string::npos ? value.size() + 1 : comma + 1;
    auto dash = item.find('-');
    std::string lo = item.substr(0, dash),
                hi = dash == std::string::npos ? lo : item.substr(dash + 1);
    ok = numeric(lo) && numeric(hi) && std::stoull(lo) <= std::stoull(hi);
    if (ok) highest = std::max<uint64_t>(highest, std::stoull(hi));
  }
  if (!ok) return base::fail_msg(fmt::format("{} '{}': must be a list such as 0-3,5", flag, value));
  if (count > 0 && highest >= static_cast<uint64_t>(count))
    return base::fail_msg(fmt::format("{} '{}': this host has CPUs 0-{}", flag, value, count - 1));
  return {};
}

base::Result<std::vector<std::string>> capabilities_of(const RunOptions& o,
                                                       const std::vector<std::string>& defaults) {
  if (o.privileged) return grantable_capabilities();
  auto add = TRY(normalized_caps(o.cap_add, "--cap-add"));
  auto drop = TRY(normalized_caps(o.cap_drop, "--cap-drop"));
  std::vector<std::string> caps;
  if (contains(add, "ALL")) {
    for (const auto& c : grantable_capabilities())
      if (!contains(drop, c)) caps.push_back(c);
    return caps;
  }
  if (!contains(drop, "ALL"))
    for (const auto& c : defaults)
      if (!contains(drop, c)) caps.push_back(c);
  for (const auto& c : add)
    if (!contains(caps, c)) caps.push_back(c);
  return caps;
}

base::Status apply_spec_options(const RunOptions& o, const SpecPaths& files, nlohmann::json& spec) {
  auto& linux_section = spec["linux"];
  auto& mounts = spec["mounts"];
  auto& process = spec["process"];
  if (o.privileged) {
    linux_section.erase("seccomp");
    linux_section["maskedPaths"] = nlohmann::json::array();
    linux_section["readonlyPaths"] = nlohmann::json::array();
    linux_section["devices"] = host_devices();
    linux_section["resources"]["devices"] = {{{"allow", true}, {"access", "rwm"}}};
    for (auto& m : mounts)
      if (m["destination"] == "/sys" || m["destination"] == "/sys/fs/cgroup") {
        auto& opts = m["options"];
        opts.erase(std::remove(opts.begin(), opts.end(), "ro"), opts.end());
      }
  }
  for (const auto& d : o.devices) TRY_STATUS(add_device(d, spec));
  if (!o.init_path.empty()) {  // docker's --init: our init runs the program as its child
    mounts.push_back({{"destination", kInitPath},
                      {"type", "bind"},
                      {"source", o.init_path},
                      {"options", {"rbind", "ro", "nosuid", "nodev"}}});
    auto& args = process["args"];
    args.insert(args.begin(), "--");
    args.insert(args.begin(), kInitPath);
  }
  for (const auto& t : o.tmpfs) TRY_STATUS(add_tmpfs(t, mounts));
  if (o.shm_size) {
    if (*o.shm_size <= 0) return base::fail_msg("--shm-size: must be above 0");
    for (auto& m : mounts)
      if (m["destination"] == "/dev/shm")
        for (auto& opt : m["options"])
          if (opt.get<std::string>().rfind("size=", 0) == 0)
            opt = fmt::format("size={}k", (*o.shm_size + 1023) / 1024);
  }
  TRY_STATUS(namespace_mode(o.ipc, "--ipc", "ipc", spec));
  if (o.ipc == "host") {  // the host's IPC objects, /dev/shm's files among them
    if (o.shm_size)
      return base::fail_msg("--shm-size: a container with --ipc host has the host's /dev/shm");
    for (auto& m : mounts)
      if (m["destination"] == "/dev/shm")
        m = {{"destination", "/dev/shm"},
             {"type", "bind"},
             {"source", "/dev/shm"},
             {"options", {"rbind", "nosuid", "noexec", "nodev"}}};
  }
  TRY_STATUS(namespace_mode(o.pid, "--pid", "pid", spec));
  TRY_STATUS(namespace_mode(o.uts, "--uts", "uts", spec));
  TRY_STATUS(namespace_mode(o.cgroupns, "--cgroupns", "cgroup", spec));
  if (o.uts == "host" && (!o.hostname.empty() || !o.domainname.empty()))
    return base::fail_msg("--uts host: a container of the host's UTS namespace has its hostname");
  if (o.uts == "host") spec.erase("hostname");
  if (!o.domainname.empty()) spec["domainname"] = o.domainname;
  for (const auto& s : o.sysctls) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::fail_msg(fmt::format("--sysctl '{}': must be NAME=VALUE", s));
    std::string name = s.substr(0, eq);
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos ||
        name.front() == '.' || name.back() == '.')
      return base::fail_msg(fmt::format("--sysctl '{}': write the name with dots: net.ipv4.x", s));
    TRY_STATUS(check_sysctl(name, o));
    linux_section["sysctl"][name] = s.substr(eq + 1);
  }
  for (const auto& u : o.ulimits) {
    auto limit = TRY(rlimit_of(u));
    auto& list = process["rlimits"];
    if (!list.is_array()) list = nlohmann::json::array();
    for (auto it = list.begin(); it != list.end();)
      it = (*it)["type"] == limit["type"] ? list.erase(it) : it + 1;
    list.push_back(limit);
  }
  if (!o.group_add.empty()) {
    auto& user = process["user"];
    if (!user.contains("uid")) user = {{"uid", 0}, {"gid", 0}};
    for (const auto& g : o.group_add) {
      uint64_t id = TRY(group_id_of(g, files, fmt::format("--group-add '{}'", g)));
      if (id >= UINT32_MAX)
        return base::fail_msg(fmt::format("--group-add '{}': ids must be below 4294967295", g));
      user["additionalGids"].push_back(id);
    }
  }
  if (o.oom_score_adj) {
    if (*o.oom_score_adj < -1000 || *o.oom_score_adj > 1000)
      return base::fail_msg(
          fmt::format("--oom-score-adj {}: must be from -1000 to 1000", *o.oom_score_adj));
    process["oomScoreAdj"] = *o.oom_score_adj;
  }
  auto& cpu = linux_section["resources"]["cpu"];
  if (o.cpu_shares) {
    if (*o.cpu_shares < 2 || *o.cpu_shares > 262144)
      return base::fail_msg(
          fmt::format("--cpu-shares {}: must be from 2 to 262144", *o.cpu_shares));
    cpu["shares"] = *o.cpu_shares;
  }
  for (const auto& [value, key, flag] : {std::tuple{o.cpuset_cpus, "cpus", "--cpuset-cpus"},
                                         {o.cpuset_mems, "mems", "--cpuset-mems"}}) {
    if (value.empty()) continue;
    TRY_STATUS(check_cpu_list(value, flag, std::string_view(key) == "cpus" ? online_cpus() : -1));
    cpu[key] = value;
  }
  if (cpu.empty()) linux_section["resources"].erase("cpu");
  sort_mounts(mounts);
  return {};
}

}  // namespace berth
