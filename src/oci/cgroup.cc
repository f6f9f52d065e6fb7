#include "oci/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/log.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "oci/device_filter.h"

namespace oci {
namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
const std::set<std::string> kV1Controllers = {
    "cpu",  "cpuacct", "cpuset",  "memory",   "devices",    "freezer", "blkio",
    "pids", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma",    "misc"};

struct Hierarchy {
  std::string controllers;  // "cpu,cpuacct"; "" for the v2 hierarchy
  std::string mountpoint;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

// cgroup mounts from /proc/self/mountinfo; of several mounts on one point,
// the last (the visible one) counts.
std::vector<Hierarchy> hierarchies() {
  std::vector<Hierarchy> out;
  auto text = base::read_text("/proc/self/mountinfo");
  if (!text) return out;
  std::stringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto parts = split(line, ' ');
    auto dash = std::find(parts.begin(), parts.end(), "-");
    if (parts.size() < 5 || dash == parts.end() || parts.end() - dash < 4) continue;
    const std::string& fstype = *(dash + 1);
    const std::string& mountpoint = parts[4];
    if (mountpoint.rfind(kRoot, 0) != 0) continue;
    std::erase_if(out, [&](const Hierarchy& h) { return h.mountpoint == mountpoint; });
    if (fstype == "cgroup2") {
      out.push_back({"", mountpoint});
    } else if (fstype == "cgroup") {
      std::string ctrls;
      for (const auto& opt : split(*(dash + 3), ','))
        if (kV1Controllers.count(opt)) ctrls += (ctrls.empty() ? "" : ",") + opt;
      if (!ctrls.empty()) out.push_back({ctrls, mountpoint});
    } else if (mountpoint == kRoot) {
      out.clear();  // a new filesystem on /sys/fs/cgroup hides everything mounted below it before
    }
  }
  return out;
}

// The runtime's own cgroup per hierarchy, from /proc/self/cgroup ("" key = v2).
std::map<std::string, std::string> own_cgroups() {
  std::map<std::string, std::string> out;
  auto text = base::read_text("/proc/self/cgroup");
  if (!text) return out;
  std::stringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    out[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
  }
  return out;
}

bool contains(const std::string& list, const std::string& name) {
  for (const auto& c : split(list, ','))
    if (c == name) return true;
  return false;
}

// mkdir -p, recording what it created (outermost first). The parent
// (berth's cgroup) usually exists: one mkdir then, not one per component.
base::Status make_dirs(const std::string& path, std::vector<std::string>& created) {
  auto leaf = base::sys::mkdirat(AT_FDCWD, path, 0755);
  if (leaf) {
    created.push_back(path);
    return {};
  }
  if (leaf.error().code() == EEXIST) return {};
  if (leaf.error().code() != ENOENT) return leaf;
  std::string cur;
  for (const auto& part : split(path, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (auto made = base::sys::mkdirat(AT_FDCWD, cur, 0755)) {
      created.push_back(cur);
    } else if (made.error().code() != EEXIST) {
      return made;
    }
  }
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A new v1 cpuset cgroup starts with no cpus or mems; copy the nearest ancestor's.
base::Status init_cpuset(const std::string& dir, const std::string& mountpoint) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    if (!trim(base::read_text(dir + "/" + file).value_or("")).empty()) continue;
    std::vector<std::string> chain;
    for (std::string d = dir; d.size() >= mountpoint.size(); d = d.substr(0, d.rfind('/'))) {
      chain.push_back(d);
      if (d == mountpoint) break;
    }
    std::string value;
    for (const auto& d : chain) {
      value = trim(base::read_text(d + "/" + file).value_or(""));
      if (!value.empty()) break;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (!trim(base::read_text(*it + "/" + file).value_or("")).empty()) continue;
      TRY_STATUS(base::write_text(*it + "/" + file, value));
    }
  }
  return {};
}

// Enables every controller the parent offers in each ancestor's subtree_control.
void enable_v2_controllers(const std::string& mountpoint, const std::string& dir) {
  std::string cur = mountpoint;
  std::string rest = dir.substr(mountpoint.size());
  for (const auto& part : split(rest, '/')) {
    if (part.empty()) continue;
    std::string avail = trim(base::read_text(cur + "/cgroup.controllers").value_or(""));
    std::string enabled = trim(base::read_text(cur + "/cgroup.subtree_control").value_or(""));
    for (const auto& c : split(avail, ' ')) {
      if (c.empty() || (" " + enabled + " ").find(" " + c + " ") != std::string::npos) continue;
      (void)base::write_text(cur + "/cgroup.subtree_control", "+" + c);  // busy parents refuse
    }
    cur += "/" + part;
  }
}

std::string number_or_max(int64_t v) {
  return v < 0 ? "max" : std::to_string(v);
}

uint64_t read_u64(const std::string& path) {
  auto t = base::read_text(path);
  if (!t) return 0;
  try {
    return std::stoull(*t);
  } catch (...) {
    return 0;
  }
}

std::map<std::string, uint64_t> read_keyed(const std::string& path) {
  std::map<std::string, uint64_t> out;
  std::stringstream in(base::read_text(path).value_or(""));
  std::string k;
  uint64_t v;
  while (in >> k >> v) out[k] = v;
  return out;
}

void collect_pids(const std::string& dir, std::set<pid_t>& out) {
  std::stringstream in(base::read_text(dir + "/cgroup.procs").value_or(""));
  pid_t p;
  // A process outside our pid namespace reads as 0 (cgroup v2): never one to
  // signal, as kill(0) would reach our own process group.
  while (in >> p)
    if (p > 0) out.insert(p);
  auto d = base::sys::open(dir, O_RDONLY | O_DIRECTORY);
  if (!d) return;
  DIR* dp = ::fdopendir(d->release());
  if (!dp) return;
  while (auto* e = ::readdir(dp))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') collect_pids(dir + "/" + e->d_name, out);
  ::closedir(dp);
}

base::Status remove_tree(const std::string& dir) {
  if (auto d = base::sys::open(dir, O_RDONLY | O_DIRECTORY)) {
    if (DIR* dp = ::fdopendir(d->release())) {
      std::vector<std::string> subs;
      while (auto* e = ::readdir(dp))
        if (e->d_type == DT_DIR && e->d_name[0] != '.') subs.push_back(dir + "/" + e->d_name);
      ::closedir(dp);
      for (const auto& s : subs) TRY_STATUS(remove_tree(s));
    }
  }
  if (auto removed = base::sys::unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
      !removed && removed.error().code() != ENOENT)
    return base::fail(base::Error::sys(removed.error().code(), "rmdir", dir));
  return {};
}

}  // namespace

const char* layout_name(CgroupLayout l) {
  switch (l) {
    case CgroupLayout::kV1:
      return "v1";
    case CgroupLayout::kHybrid:
      return "hybrid";
    case CgroupLayout::kV2:
      return "v2";
  }
  return "?";
}

namespace {

// The layout the mounted hierarchies `hs` make (statfs first: on pure v2
// /sys/fs/cgroup itself is the one hierarchy).
base::Result<CgroupLayout> layout_of(const std::vector<Hierarchy>& hs) {
  struct statfs fs = TRY(base::sys::statfs(kRoot));
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::kV2;
  bool v1 = false, v2 = false;
  for (const auto& h : hs) (h.controllers.empty() ? v2 : v1) = true;
  if (v1) return v2 ? CgroupLayout::kHybrid : CgroupLayout::kV1;
  return base::fail_msg(fmt::format("no cgroup hierarchy is mounted under {}", kRoot));
}

// Where cgroup `cgroups_path` (linux.cgroupsPath; empty: the id) lies in
// each hierarchy of `hs` used with `layout`: an absolute path from the
// hierarchy's root, else below our own cgroup.
base::Result<std::vector<std::pair<Hierarchy, std::string>>> placements(
    const std::vector<Hierarchy>& hs, CgroupLayout layout, const std::string& cgroups_path,
    const std::string& id) {
  std::string rel = cgroups_path.empty() ? id : cgroups_path;
  if (rel.find("..") != std::string::npos)
    return base::fail_msg(fmt::format("linux.cgroupsPath: '{}' must not contain '..'", rel));
  bool absolute = rel.front() == '/';
  auto own = own_cgroups();
  std::vector<std::pair<Hierarchy, std::string>> out;
  for (const auto& h : hs) {
    if (layout == CgroupLayout::kV2 && h.mountpoint != kRoot) continue;
    std::string parent = absolute ? "" : own[h.controllers];
    std::string dir = h.mountpoint + (parent == "/" ? "" : parent) + (absolute ? "" : "/") + rel;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    out.emplace_back(h, dir);
  }
  return out;
}

}  // namespace

base::Result<std::optional<Cgroup>> Cgroup::existing(const std::string& cgroups_path,
                                                     const std::string& id) {
  Cgroup cg;
  auto hs = hierarchies();  // mountinfo is read once: the kernel formats it anew for each read
  cg.layout_ = TRY(layout_of(hs));
  for (const auto& [h, dir] : TRY(placements(hs, cg.layout_, cgroups_path, id)))
    if (base::path_exists(dir)) cg.dirs_.emplace_back(h.controllers, dir);
  if (cg.dirs_.empty()) return std::optional<Cgroup>();
  return std::optional<Cgroup>(std::move(cg));
}

base::Result<Cgroup> Cgroup::create(const std::string& cgroups_path, const std::string& id) {
  Cgroup cg;
  auto hs = hierarchies();
  cg.layout_ = TRY(layout_of(hs));
  auto where = TRY(placements(hs, cg.layout_, cgroups_path, id));
  std::vector<std::string> created;
  auto undo = [&] {
    for (auto it = created.rbegin(); it != created.rend(); ++it)
      (void)base::sys::unlinkat(AT_FDCWD, *it, AT_REMOVEDIR);
  };
  for (const auto& [h, dir] : where) {
    auto made = make_dirs(dir, created);
    if (made && contains(h.controllers, "cpuset")) made = init_cpuset(dir, h.mountpoint);
    if (made && h.controllers.empty()) enable_v2_controllers(h.mountpoint, dir);
    if (!made) {
      undo();
      return base::fail(std::move(made).error().context("create cgroup"));
    }
    cg.dirs_.emplace_back(h.controllers, dir);
  }
  if (cg.dirs_.empty()) return base::fail_msg("create cgroup: no usable cgroup hierarchy");
  return cg;
}

base::Result<Cgroup> Cgroup::from_json(const nlohmann::json& j) {
  Cgroup cg;
  try {
    std::string l = j.at("layout").get<std::string>();
    cg.layout_ = l == "v1"       ? CgroupLayout::kV1
                 : l == "hybrid" ? CgroupLayout::kHybrid
                                 : CgroupLayout::kV2;
    for (const auto& d : j.at("dirs"))
      cg.dirs_.emplace_back(d.at(0).get<std::string>(), d.at(1).get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return base::fail_msg(std::string("cgroup record: ") + e.what());
  }
  return cg;
}

nlohmann::json Cgroup::to_json() const {
  nlohmann::json dirs = nlohmann::json::array();
  for (const auto& [c, d] : dirs_) dirs.push_back({c, d});
  return {{"layout", layout_name(layout_)}, {"dirs", dirs}};
}

std::string Cgroup::dir_for(const std::string& controller) const {
  for (const auto& [c, d] : dirs_)
    if (controller.empty() ? c.empty() : contains(c, controller)) return d;
  return "";
}

base::Status Cgroup::write(const std::string& controller, const std::string& file,
                           const std::string& value) const {
  std::string dir = dir_for(controller);
  if (dir.empty())
    return base::fail_msg(
        fmt::format("linux.resources: this host has no {} cgroup controller (needed for {})",
                    controller.empty() ? "v2" : controller, file));
  return base::write_text(dir + "/" + file, value);
}

base::Status Cgroup::write_checked(const std::string& controller, const std::string& file,
                                   int64_t value, const char* field, bool dropped_is_error) const {
  std::string dir = dir_for(controller);
  if (dir.empty() || ::access((dir + "/" + file).c_str(), F_OK) != 0)
    return base::fail_msg(fmt::format("{}: this host has no {}", field, file));
  TRY_STATUS(write(controller, file, std::to_string(value)));
  // A kernel that accepts a value and keeps another has not applied it.
  auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (value <= 0 || read_u64(dir + "/" + file) == static_cast<uint64_t>(value) / page * page)
    return {};
  std::string why = fmt::format(
      "{}: this kernel accepts {} but does not enforce it (obsolete since Linux 5.4)", field, file);
  if (dropped_is_error) return base::fail_msg(why + "; leave it unset");
  base::log::warn("warning: {}", why);
  return {};
}

base::Status Cgroup::add_process(pid_t pid) const {
  for (const auto& [c, d] : dirs_)
    TRY_STATUS(base::write_text(d + "/cgroup.procs", std::to_string(pid)));
  return {};
}

// A v2 directory has no controllers of its own listed (the unified
// hierarchy of a hybrid host, or every directory on a v2 host).
base::Result<Cgroup::Entry> Cgroup::open_entry() const {
  Entry e;
  for (const auto& [c, d] : dirs_) {
    base::UniqueFd fd = TRY(base::sys::open(c.empty() ? d : d + "/tasks",
                                            c.empty() ? O_RDONLY | O_DIRECTORY : O_WRONLY));
    // Above 0, 1 and 2: a runtime started with one of them closed would
    // otherwise see the new process's stdio replace a `tasks` file (and
    // "0" written to its stdout) before it entered the cgroup.
    if (fd.get() < 3) fd = base::UniqueFd(TRY(base::sys::dup(fd.get(), 3)));
    if (c.empty())
      e.v2_dir = std::move(fd);
    else
      e.tasks.push_back(std::move(fd));
  }
  return e;
}

base::Status Cgroup::enter_self(const std::vector<int>& tasks) {
  for (int fd : tasks) {
    TRY_STATUS(base::sys::write_all(fd, "0", 1, "cgroup tasks"));
    TRY_STATUS(base::sys::close(base::UniqueFd(fd), "cgroup tasks"));
  }
  return {};
}

base::Status Cgroup::add_to_v2(pid_t pid) const {
  for (const auto& [c, d] : dirs_)
    if (c.empty()) TRY_STATUS(base::write_text(d + "/cgroup.procs", std::to_string(pid)));
  return {};
}

base::Status Cgroup::apply(const Resources& r, bool devices) const {
  auto s = layout_ == CgroupLayout::kV2 ? apply_v2(r, devices) : apply_v1(r, devices);
  if (!s) return base::fail(std::move(s).error().context("apply linux.resources"));
  return {};
}

base::Status Cgroup::apply_v1(const Resources& r, bool devices) const {
  if (r.has_memory() && dir_for("memory").empty())
    return base::fail_msg("linux.resources.memory: no memory cgroup controller on this host");
  if (r.memory_limit) {
    std::string v = std::to_string(*r.memory_limit);
    if (!write("memory", "memory.limit_in_bytes", v)) {
      // Raising the limit above the current memory+swap limit needs that raised first.
      TRY_STATUS(write("memory", "memory.memsw.limit_in_bytes",
                       r.memory_swap ? std::to_string(*r.memory_swap) : "-1"));
      TRY_STATUS(write("memory", "memory.limit_in_bytes", v));
    }
  }
  if (r.memory_swap) {
    if (::access((dir_for("memory") + "/memory.memsw.limit_in_bytes").c_str(), F_OK) != 0)
      return base::fail_msg(
          "linux.resources.memory.swap: swap accounting is not enabled on this host");
    TRY_STATUS(write("memory", "memory.memsw.limit_in_bytes", std::to_string(*r.memory_swap)));
  }
  if (r.memory_reservation)
    TRY_STATUS(
        write("memory", "memory.soft_limit_in_bytes", std::to_string(*r.memory_reservation)));
  if (r.memory_swappiness)
    TRY_STATUS(write("memory", "memory.swappiness", std::to_string(*r.memory_swappiness)));
  if (r.disable_oom_killer) TRY_STATUS(write("memory", "memory.oom_control", "1"));
  // memory.kernel is NOT RECOMMENDED by the spec and ignored by Linux >= 5.4:
  // written as asked, as crun does, with a warning when the kernel drops it.
  if (r.kernel_limit)
    TRY_STATUS(write_checked("memory", "memory.kmem.limit_in_bytes", *r.kernel_limit,
                             "linux.resources.memory.kernel", /*dropped_is_error=*/false));
  if (r.kernel_tcp_limit)
    TRY_STATUS(write_checked("memory", "memory.kmem.tcp.limit_in_bytes", *r.kernel_tcp_limit,
                             "linux.resources.memory.kernelTCP", /*dropped_is_error=*/true));
  if (r.net_class_id)
    TRY_STATUS(write("net_cls", "net_cls.classid", std::to_string(*r.net_class_id)));
  for (const auto& [iface, prio] : r.net_priorities)
    TRY_STATUS(write("net_prio", "net_prio.ifpriomap", fmt::format("{} {}", iface, prio)));
  if (r.cpu_period) TRY_STATUS(write("cpu", "cpu.cfs_period_us", std::to_string(*r.cpu_period)));
  if (r.cpu_quota) TRY_STATUS(write("cpu", "cpu.cfs_quota_us", std::to_string(*r.cpu_quota)));
  if (r.cpu_shares) TRY_STATUS(write("cpu", "cpu.shares", std::to_string(*r.cpu_shares)));
  if (r.cpu_realtime_period)
    TRY_STATUS(write("cpu", "cpu.rt_period_us", std::to_string(*r.cpu_realtime_period)));
  if (r.cpu_realtime_runtime)
    TRY_STATUS(write("cpu", "cpu.rt_runtime_us", std::to_string(*r.cpu_realtime_runtime)));
  if (!r.cpus.empty()) TRY_STATUS(write("cpuset", "cpuset.cpus", r.cpus));
  if (!r.mems.empty()) TRY_STATUS(write("cpuset", "cpuset.mems", r.mems));
  if (r.pids_limit)
    TRY_STATUS(
        write("pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
  if (r.blkio_weight) {
    std::string w = std::to_string(*r.blkio_weight);
    if (!write("blkio", "blkio.weight", w)) TRY_STATUS(write("blkio", "blkio.bfq.weight", w));
  }
  auto rates = [&](const std::vector<BlockRate>& list, const char* file) -> base::Status {
    for (const auto& b : list)
      TRY_STATUS(write("blkio", file, fmt::format("{}:{} {}", b.major, b.minor, b.rate)));
    return {};
  };
  TRY_STATUS(rates(r.read_bps, "blkio.throttle.read_bps_device"));
  TRY_STATUS(rates(r.write_bps, "blkio.throttle.write_bps_device"));
  TRY_STATUS(rates(r.read_iops, "blkio.throttle.read_iops_device"));
  TRY_STATUS(rates(r.write_iops, "blkio.throttle.write_iops_device"));
  for (const auto& [size, limit] : r.hugepage_limits) {
    if (!dir_for("hugetlb").empty())
      TRY_STATUS(
          write("hugetlb", fmt::format("hugetlb.{}.limit_in_bytes", size), std::to_string(limit)));
    else
      TRY_STATUS(write("", fmt::format("hugetlb.{}.max", size), std::to_string(limit)));
  }
  std::vector<DeviceRule> rules = r.devices;
  for (auto& d : default_device_rules()) rules.push_back(d);
  if (!devices) {
  } else if (!dir_for("devices").empty()) {
    TRY_STATUS(write("devices", "devices.deny", "a"));
    for (const auto& d : rules) {
      std::string line =
          fmt::format("{} {}:{} {}", d.type, d.major < 0 ? "*" : std::to_string(d.major),
                      d.minor < 0 ? "*" : std::to_string(d.minor), d.access);
      if (d.type == 'a') line = "a";
      TRY_STATUS(write("devices", d.allow ? "devices.allow" : "devices.deny", line));
    }
  } else if (layout_ == CgroupLayout::kHybrid) {
    auto fd = TRY(base::sys::open(dir_for(""), O_RDONLY | O_DIRECTORY));
    TRY_STATUS(attach_device_filter(fd.get(), rules));
  }
  for (const auto& [file, value] : r.unified) {
    if (layout_ != CgroupLayout::kHybrid)
      return base::fail_msg(fmt::format("linux.resources.unified.{}: needs cgroup v2", file));
    TRY_STATUS(write("", file, value));
  }
  return {};
}

base::Status Cgroup::apply_v2(const Resources& r, bool devices) const {
  std::string dir = dir_for("");
  std::string available =
      " " + trim(base::read_text(dir + "/cgroup.controllers").value_or("")) + " ";
  auto need = [&](const char* controller, const char* field) -> base::Status {
    if (available.find(std::string(" ") + controller + " ") != std::string::npos) return {};
    return base::fail_msg(
        fmt::format("linux.resources.{}: the {} controller is not available to {} (it offers:{})",
                    field, controller, dir, available));
  };
  if (r.has_memory()) {
    TRY_STATUS(need("memory", "memory"));
    if (r.memory_swappiness)
      return base::fail_msg(
          "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness");
    if (r.memory_limit) TRY_STATUS(write("", "memory.max", number_or_max(*r.memory_limit)));
    if (r.memory_reservation)
      TRY_STATUS(write("", "memory.low", number_or_max(*r.memory_reservation)));
    if (r.memory_swap) {
      int64_t swap = *r.memory_swap;
      if (swap >= 0 && r.memory_limit && *r.memory_limit >= 0) swap -= *r.memory_limit;
      TRY_STATUS(write("", "memory.swap.max", number_or_max(swap)));
    }
    if (r.disable_oom_killer)
      return base::fail_msg("linux.resources.memory.disableOOMKiller: not supported by cgroup v2");
    if (r.kernel_limit || r.kernel_tcp_limit)
      return base::fail_msg(
          fmt::format("linux.resources.memory.{}: cgroup v2 has no kernel memory limit",
                      r.kernel_limit ? "kernel" : "kernelTCP"));
  }
  if (r.net_class_id || !r.net_priorities.empty())
    return base::fail_msg(
        "linux.resources.network: cgroup v2 has no net_cls or net_prio controller");
  if (r.has_cpu()) {
    TRY_STATUS(need("cpu", "cpu"));
    if (r.cpu_shares) {
      uint64_t s = std::clamp<uint64_t>(*r.cpu_shares, 2, 262144);
      TRY_STATUS(write("", "cpu.weight", std::to_string(1 + ((s - 2) * 9999) / 262142)));
    }
    if (r.cpu_quota || r.cpu_period)
      TRY_STATUS(write("", "cpu.max",
                       fmt::format("{} {}", r.cpu_quota ? number_or_max(*r.cpu_quota) : "max",
                                   r.cpu_period.value_or(100000))));
    if (r.cpu_realtime_period || r.cpu_realtime_runtime)
      return base::fail_msg("linux.resources.cpu.realtimeRuntime: not supported by cgroup v2");
  }
  if (r.has_cpuset()) {
    TRY_STATUS(need("cpuset", "cpu.cpus"));
    if (!r.cpus.empty()) TRY_STATUS(write("", "cpuset.cpus", r.cpus));
    if (!r.mems.empty()) TRY_STATUS(write("", "cpuset.mems", r.mems));
  }
  if (r.pids_limit) {
    TRY_STATUS(need("pids", "pids"));
    TRY_STATUS(write("", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
  }
  if (r.has_blkio()) {
    TRY_STATUS(need("io", "blockIO"));
    if (r.blkio_weight)
      TRY_STATUS(write("", "io.weight", std::to_string(1 + (*r.blkio_weight - 10) * 9999 / 990)));
    auto rates = [&](const std::vector<BlockRate>& list, const char* key) -> base::Status {
      for (const auto& b : list)
        TRY_STATUS(write("", "io.max", fmt::format("{}:{} {}={}", b.major, b.minor, key, b.rate)));
      return {};
    };
    TRY_STATUS(rates(r.read_bps, "rbps"));
    TRY_STATUS(rates(r.write_bps, "wbps"));
    TRY_STATUS(rates(r.read_iops, "riops"));
    TRY_STATUS(rates(r.write_iops, "wiops"));
  }
  if (!r.hugepage_limits.empty()) TRY_STATUS(need("hugetlb", "hugepageLimits"));
  for (const auto& [size, limit] : r.hugepage_limits)
    TRY_STATUS(write("", fmt::format("hugetlb.{}.max", size), std::to_string(limit)));
  std::vector<DeviceRule> rules = r.devices;
  for (auto& d : default_device_rules()) rules.push_back(d);
  if (devices) {
    auto fd = TRY(base::sys::open(dir, O_RDONLY | O_DIRECTORY));
    TRY_STATUS(attach_device_filter(fd.get(), rules));
  }
  for (const auto& [file, value] : r.unified) TRY_STATUS(write("", file, value));
  return {};
}

base::Status Cgroup::freeze(bool frozen) const {
  std::string freezer = dir_for("freezer");
  if (!freezer.empty()) {
    TRY_STATUS(base::write_text(freezer + "/freezer.state", frozen ? "FROZEN" : "THAWED"));
  } else {
    std::string dir = dir_for("");
    if (dir.empty()) return base::fail_msg("pause: no freezer on this host");
    TRY_STATUS(base::write_text(dir + "/cgroup.freeze", frozen ? "1" : "0"));
  }
  for (int i = 0; i < 1000; ++i) {  // the kernel freezes asynchronously
    if (this->frozen() == frozen) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return base::fail_msg(frozen ? "pause: processes did not freeze within 1 s"
                               : "resume: processes did not thaw within 1 s");
}

bool Cgroup::frozen() const {
  std::string freezer = dir_for("freezer");
  if (!freezer.empty())
    return trim(base::read_text(freezer + "/freezer.state").value_or("")) == "FROZEN";
  std::string dir = dir_for("");
  return !dir.empty() && read_keyed(dir + "/cgroup.events")["frozen"] == 1;
}

std::vector<pid_t> Cgroup::pids() const {
  std::set<pid_t> all;
  std::string dir = dir_for("pids");
  if (dir.empty()) dir = dir_for("freezer");
  if (dir.empty()) dir = dir_for("");
  if (dir.empty() && !dirs_.empty()) dir = dirs_.front().second;
  if (!dir.empty()) collect_pids(dir, all);
  return {all.begin(), all.end()};
}

uint64_t Cgroup::oom_kills() const {
  if (layout_ != CgroupLayout::kV2) {
    auto d = dir_for("memory");
    return d.empty() ? 0 : read_keyed(d + "/memory.oom_control")["oom_kill"];
  }
  auto d = dir_for("");
  return d.empty() ? 0 : read_keyed(d + "/memory.events")["oom_kill"];
}

nlohmann::json Cgroup::stats() const {
  nlohmann::json data = nlohmann::json::object();
  if (layout_ != CgroupLayout::kV2) {
    if (auto d = dir_for("cpuacct"); !d.empty()) {
      auto st = read_keyed(d + "/cpuacct.stat");
      uint64_t tick_ns = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      std::vector<uint64_t> percpu;
      std::stringstream in(base::read_text(d + "/cpuacct.usage_percpu").value_or(""));
      for (uint64_t v; in >> v;) percpu.push_back(v);
      data["cpu"]["usage"] = {{"total", read_u64(d + "/cpuacct.usage")},
                              {"percpu", percpu},
                              {"kernel", st["system"] * tick_ns},
                              {"user", st["user"] * tick_ns}};
    }
    if (auto d = dir_for("cpu"); !d.empty()) {
      auto st = read_keyed(d + "/cpu.stat");
      data["cpu"]["throttling"] = {{"periods", st["nr_periods"]},
                                   {"throttledPeriods", st["nr_throttled"]},
                                   {"throttledTime", st["throttled_time"]}};
    }
    if (auto d = dir_for("memory"); !d.empty()) {
      auto raw = read_keyed(d + "/memory.stat");
      data["memory"] = {{"usage",
                         {{"usage", read_u64(d + "/memory.usage_in_bytes")},
                          {"max", read_u64(d + "/memory.max_usage_in_bytes")},
                          {"limit", read_u64(d + "/memory.limit_in_bytes")},
                          {"failcnt", read_u64(d + "/memory.failcnt")}}},
                        {"cache", raw["cache"]},
                        {"raw", raw}};
    }
    if (auto d = dir_for("pids"); !d.empty())
      data["pids"] = {{"current", read_u64(d + "/pids.current")},
                      {"limit", read_u64(d + "/pids.max")}};
  } else {
    std::string d = dir_for("");
    auto cpu = read_keyed(d + "/cpu.stat");
    data["cpu"] = {{"usage",
                    {{"total", cpu["usage_usec"] * 1000},
                     {"kernel", cpu["system_usec"] * 1000},
                     {"user", cpu["user_usec"] * 1000}}},
                   {"throttling",
                    {{"periods", cpu["nr_periods"]},
                     {"throttledPeriods", cpu["nr_throttled"]},
                     {"throttledTime", cpu["throttled_usec"] * 1000}}}};
    if (::access((d + "/memory.current").c_str(), F_OK) == 0) {
      auto raw = read_keyed(d + "/memory.stat");
      data["memory"] = {{"usage",
                         {{"usage", read_u64(d + "/memory.current")},
                          {"max", read_u64(d + "/memory.peak")},
                          {"limit", read_u64(d + "/memory.max")}}},
                        {"cache", raw["file"]},
                        {"raw", raw}};
    }
    if (::access((d + "/pids.current").c_str(), F_OK) == 0)
      data["pids"] = {{"current", read_u64(d + "/pids.current")},
                      {"limit", read_u64(d + "/pids.max")}};
  }
  return data;
}

base::Status Cgroup::destroy() const {
  for (int attempt = 0;; ++attempt) {
    bool busy = false;
    for (const auto& [c, d] : dirs_) {
      auto s = remove_tree(d);
      if (!s) {
        if (s.error().code() != EBUSY || attempt >= 200)
          return base::fail(std::move(s).error().context("remove cgroup"));
        busy = true;
      }
    }
    if (!busy) return {};
    for (pid_t p : pids()) (void)base::sys::kill(p, SIGKILL);
    if (frozen()) (void)freeze(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace oci
