#include "oci/container_plan.h"

#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"

namespace oci {
namespace {

// Only sysctls that belong to a namespace the container has may be set;
// anything else would change the host.
base::Result<std::string> sysctl_file(const std::string& key, int new_ns) {
  bool ok = false;
  if (key.rfind("net.", 0) == 0)
    ok = new_ns & CLONE_NEWNET;
  else if (key.rfind("fs.mqueue.", 0) == 0 || key.rfind("kernel.msg", 0) == 0 ||
           key == "kernel.sem" || key.rfind("kernel.shm", 0) == 0)
    ok = new_ns & CLONE_NEWIPC;
  else if (key == "kernel.hostname" || key == "kernel.domainname")
    ok = new_ns & CLONE_NEWUTS;
  if (key.find("..") != std::string::npos || key.find('/') != std::string::npos) ok = false;
  if (!ok)
    return base::fail_msg(fmt::format(
        "linux.sysctl.{}: not namespaced for this container (it would change the host)", key));
  std::string path = "/proc/sys/" + key;
  for (size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  return path;
}

}  // namespace

int namespace_flag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  return 0;
}

const char* namespace_file(int flag) {
  switch (flag) {
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWNS:
      return "mnt";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWCGROUP:
      return "cgroup";
  }
  return "?";
}

base::Result<ContainerPlan> plan_container(const std::string& bundle_arg, const PlanOptions& o) {
  ContainerPlan plan;
  auto real = base::sys::realpath(bundle_arg);
  if (!real) return base::fail(base::Error::sys(real.error().code(), "bundle", bundle_arg));
  plan.bundle = std::move(*real);
  std::string config_path = plan.bundle + "/config.json";
  plan.config_text = TRY(base::read_text(config_path));
  auto j = nlohmann::json::parse(plan.config_text, nullptr, false);
  if (j.is_discarded()) return base::fail_msg(fmt::format("{}: not valid JSON", config_path));
  plan.config = TRY(parse_config(j));
  const Config& c = plan.config;
  if (!c.linux_section) return base::fail_msg("linux: required (berth-oci runs Linux containers)");
  const Linux& l = *c.linux_section;

  for (const auto& ns : l.namespaces) {
    int flag = namespace_flag(ns.type);
    if (flag == 0)
      return base::fail_msg(
          fmt::format("linux.namespaces: '{}' namespaces are not supported", ns.type));
    if (!ns.path.empty()) {
      if (auto found = base::sys::access(ns.path, F_OK); !found)
        return base::fail(base::Error::sys(found.error().code(), "linux.namespaces", ns.path));
      if (flag == CLONE_NEWPID)
        plan.pid_ns_path = ns.path;
      else
        plan.joins.emplace_back(flag, ns.path);
    } else if (flag == CLONE_NEWUSER || flag == CLONE_NEWPID) {
      plan.clone_flags |= flag;
    } else {
      plan.unshare_flags |= flag;
    }
  }
  // The user namespace is joined before the others, as it owns them.
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const auto& jn) { return jn.first == CLONE_NEWUSER; });
  int new_ns = plan.clone_flags | plan.unshare_flags;
  int listed_ns = new_ns;  // created or joined
  for (const auto& jn : plan.joins) listed_ns |= jn.first;
  if (!plan.pid_ns_path.empty()) listed_ns |= CLONE_NEWPID;
  if (!(new_ns & CLONE_NEWNS)) {
    plan.shared_mount_ns = "/proc/self/ns/mnt";
    for (const auto& jn : plan.joins)
      if (jn.first == CLONE_NEWNS) plan.shared_mount_ns = jn.second;
  }
  if ((plan.clone_flags & CLONE_NEWUSER) && (l.uid_mappings.empty() || l.gid_mappings.empty()))
    return base::fail_msg("linux.uidMappings: a new user namespace needs uid and gid mappings");
  // A uts namespace joined by path is the container's to name, as a new one is;
  // without one, the host's would be renamed.
  if ((!c.hostname.empty() || !c.domainname.empty()) && !(listed_ns & CLONE_NEWUTS))
    return base::fail_msg(
        fmt::format("{}: setting it needs a uts namespace (new or joined) in linux.namespaces",
                    c.hostname.empty() ? "domainname" : "hostname"));

  // A mount label means nothing without SELinux (crun ignores it then, too);
  // with SELinux it would have to be applied, which berth-oci does not do.
  if (!l.mount_label.empty() && host_has_selinux())
    return base::fail_msg(fmt::format(
        "linux.mountLabel: '{}' cannot be applied: berth-oci does not set SELinux labels",
        l.mount_label));
  PlanOptions opts = o;
  // Without a process the container can be created, but `start` fails (the spec's rule).
  if (c.process) plan.process = TRY(plan_process(*c.process, l.seccomp));
  plan.process.preserve_fds = opts.preserve_fds;

  RootfsPlan& r = plan.rootfs;
  r.rootfs = c.root_path.front() == '/' ? c.root_path : plan.bundle + "/" + c.root_path;
  struct stat st {};
  if (::stat(r.rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return base::fail_msg(fmt::format("root.path: '{}' is not a directory", r.rootfs));
  if (auto resolved = base::sys::realpath(r.rootfs)) r.rootfs = std::move(*resolved);
  r.readonly = c.root_readonly;
  r.propagation = l.rootfs_propagation;
  for (size_t i = 0; i < c.mounts.size(); ++i)
    r.mounts.push_back(TRY(plan_mount(c.mounts[i], i, plan.bundle)));
  r.devices = TRY(parse_devices(l.devices));
  r.masked_paths = l.masked_paths;
  r.readonly_paths = l.readonly_paths;
  r.no_pivot = opts.no_pivot;
  r.shared_mount_ns = !plan.shared_mount_ns.empty();
  r.in_user_namespace = (plan.clone_flags & CLONE_NEWUSER) ||
                        (!plan.joins.empty() && plan.joins[0].first == CLONE_NEWUSER);
  plan.resources = TRY(parse_resources(l.resources, "linux.resources"));
  for (const auto& [key, value] : l.sysctl) r.sysctl[TRY(sysctl_file(key, listed_ns))] = value;
  return plan;
}

}  // namespace oci
