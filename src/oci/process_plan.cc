#include "oci/process_plan.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "base/sys.h"
#include "oci/names.h"

namespace oci {
namespace {

base::Result<std::vector<int>> cap_list(const std::vector<std::string>& names, const char* set) {
  std::vector<int> out;
  for (const auto& n : names) {
    auto v = capability_from_name(n);
    if (!v)
      return base::fail(std::move(v).error().context(fmt::format("process.capabilities.{}", set)));
    out.push_back(*v);
  }
  return out;
}

bool have_cap(cap_value_t cap) {
  cap_t cur = cap_get_proc();
  cap_flag_value_t v = CAP_CLEAR;
  if (cur) cap_get_flag(cur, cap, CAP_EFFECTIVE, &v);
  cap_free(cur);
  return v == CAP_SET;
}

std::string limit_text(rlim_t v) {
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

// Needs CAP_SETPCAP, so it runs before the switch to the configured user.
base::Status drop_bounding(const CapabilitySets& c) {
  for (int cap = 0; cap < static_cast<int>(cap_max_bits()); ++cap) {
    bool keep = false;
    for (int b : c.bounding) keep = keep || b == cap;
    if (keep) continue;
    auto dropped = base::sys::prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap));
    if (!dropped && dropped.error().code() != EINVAL)  // EINVAL: not known to this kernel
      return base::fail(base::Error::sys(dropped.error().code(), "drop bounding capability",
                                         std::to_string(cap)));
  }
  return {};
}

uint64_t cap_mask(const std::vector<int>& list) {
  uint64_t mask = 0;
  for (int cap : list) mask |= uint64_t{1} << cap;  // names.cc knows no capability past 63
  return mask;
}

base::Status set_capabilities(const CapabilitySets& c) {
  TRY_STATUS(base::sys::capset(cap_mask(c.effective), cap_mask(c.permitted),
                               cap_mask(c.inheritable), "process.capabilities"));
  (void)base::sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  // Like runc: an ambient capability must also be permitted and inheritable, or
  // the kernel refuses it; such an entry is skipped rather than failing the container.
  for (int a : c.ambient) {
    bool allowed = std::find(c.permitted.begin(), c.permitted.end(), a) != c.permitted.end() &&
                   std::find(c.inheritable.begin(), c.inheritable.end(), a) != c.inheritable.end();
    if (!allowed) continue;
    if (auto raised =
            base::sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(a));
        !raised)
      return base::fail(
          base::Error::sys(raised.error().code(), "raise ambient capability", std::to_string(a)));
  }
  return {};
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.rfind(name + "=", 0) == 0) return e.substr(name.size() + 1);
  return "";
}

// True if `path` is, or is a script run by, the binary at /proc/self/exe.
bool runs_this_runtime(const std::string& path, const struct stat& self, int depth = 0) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (st.st_dev == self.st_dev && st.st_ino == self.st_ino) return true;
  if (depth >= 4) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  char head[256] = {};
  ssize_t n = ::read(fd, head, sizeof head - 1);
  ::close(fd);
  if (n < 3 || head[0] != '#' || head[1] != '!') return false;
  std::string line(head + 2, static_cast<size_t>(n - 2));
  line = line.substr(0, line.find('\n'));
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos) return false;
  std::string interp = line.substr(b, line.find_first_of(" \t", b) - b);
  return runs_this_runtime(interp, self, depth + 1);
}

std::string lower_strerror(int err) {
  std::string s = std::strerror(err);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A program that cannot be run, in runc's words: engines read them. Docker
// gives exit status 127 for "executable file not found" and "no such file or
// directory", 126 for "permission denied", by matching this text.
base::Error exec_error(const std::string& name, const std::string& why) {
  return base::Error::msg(fmt::format("process.args[0]: exec: \"{}\": {}", name, why));
}

// A cwd reached through a leaked fd of the host reads as "(unreachable)/..."
// or as a path not starting with '/' (CVE-2024-21626).
base::Status check_cwd_inside_root(const std::string& cwd) {
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr || buf[0] != '/')
    return base::fail_msg(fmt::format("process.cwd: '{}' is outside the container's root", cwd));
  return {};
}

}  // namespace

bool host_has_apparmor() {
  char c = 0;
  int fd = ::open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool on = ::read(fd, &c, 1) == 1 && c == 'Y';
  ::close(fd);
  return on;
}

bool host_has_selinux() {
  return ::access("/sys/fs/selinux/enforce", F_OK) == 0;
}

base::Result<ProcessPlan> plan_process(const Process& p, const nlohmann::json& seccomp) {
  // berth-oci applies no LSM labels; a profile asked for is never silently dropped.
  if (!p.apparmor_profile.empty())
    return base::fail_msg(
        fmt::format("process.apparmorProfile: '{}' cannot be applied: {}", p.apparmor_profile,
                    host_has_apparmor() ? "berth-oci does not load AppArmor profiles"
                                        : "AppArmor is not enabled on this host"));
  if (!p.selinux_label.empty())
    return base::fail_msg(fmt::format("process.selinuxLabel: '{}' cannot be applied: {}",
                                      p.selinux_label,
                                      host_has_selinux() ? "berth-oci does not set SELinux labels"
                                                         : "SELinux is not enabled on this host"));
  ProcessPlan plan;
  plan.args = p.args;
  plan.env = p.env;
  plan.cwd = p.cwd;
  plan.user = p.user;
  plan.terminal = p.terminal;
  plan.console_height = static_cast<uint16_t>(p.console_height);
  plan.console_width = static_cast<uint16_t>(p.console_width);
  plan.no_new_privileges = p.no_new_privileges;
  plan.oom_score_adj = p.oom_score_adj;
  if (p.capabilities) {
    CapabilitySets c;
    c.bounding = TRY(cap_list(p.capabilities->bounding, "bounding"));
    c.effective = TRY(cap_list(p.capabilities->effective, "effective"));
    c.inheritable = TRY(cap_list(p.capabilities->inheritable, "inheritable"));
    c.permitted = TRY(cap_list(p.capabilities->permitted, "permitted"));
    c.ambient = TRY(cap_list(p.capabilities->ambient, "ambient"));
    plan.capabilities = std::move(c);
  }
  bool can_raise = have_cap(CAP_SYS_RESOURCE);
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& r = p.rlimits[i];
    int resource = TRY_CTX(rlimit_from_name(r.type), fmt::format("process.rlimits[{}].type", i));
    struct rlimit host {};
    ::getrlimit(resource, &host);
    if (!can_raise && r.hard > host.rlim_max && host.rlim_max != RLIM_INFINITY)
      return base::fail_msg(fmt::format(
          "process.rlimits[{}]: {} hard limit {} is above this host's hard limit {}, and raising "
          "it needs CAP_SYS_RESOURCE, which berth-oci does not have here",
          i, r.type, limit_text(r.hard), limit_text(host.rlim_max)));
    plan.rlimits.push_back({resource, {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)}});
    plan.rlimit_names.push_back(r.type);
  }
  plan.seccomp = TRY(compile_seccomp(seccomp));
  return plan;
}

base::Status apply_rlimits(const ProcessPlan& p) {
  for (size_t i = 0; i < p.rlimits.size(); ++i)
    TRY_STATUS(base::sys::setrlimit(p.rlimits[i].first, p.rlimits[i].second, p.rlimit_names[i])
                   .map_error([](base::Error e) { return e.context("process.rlimits"); }));
  return {};
}

base::Result<std::string> resolve_executable(const ProcessPlan& p) {
  const std::string& name = p.args.at(0);
  std::string found;
  if (name.find('/') != std::string::npos) {
    found = name;
  } else {
    std::string path = env_value(p.env, "PATH");
    if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(start, end - start);
      std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
        found = candidate;
        break;
      }
      start = end + 1;
    }
    if (found.empty()) return base::fail(exec_error(name, "executable file not found in $PATH"));
  }
  auto found_stat = base::sys::fstatat(AT_FDCWD, found, 0);
  if (!found_stat)
    return base::fail(exec_error(
        name, fmt::format("stat {}: {}", found, lower_strerror(found_stat.error().code()))));
  const struct stat& st = *found_stat;
  if (S_ISDIR(st.st_mode))
    return base::fail(exec_error(name, "permission denied (it is a directory)"));
  if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
    return base::fail(exec_error(name, "permission denied (not an executable file)"));
  struct stat self {};
  if (::stat("/proc/self/exe", &self) == 0 && runs_this_runtime(found, self))
    return base::fail_msg(fmt::format(
        "process.args[0]: '{}' would run the host's berth-oci binary inside the container; refused",
        found));
  return found;
}

base::Status become_process(const ProcessPlan& p) {
  // The work that needs syscalls a user's seccomp profile may deny comes first:
  // every fd past stdio and the preserved ones closes at execve (CVE-2024-21626),
  // and the cwd is entered and checked while still root (runc's first attempt).
  TRY_STATUS(base::sys::close_range(3 + static_cast<unsigned>(p.preserve_fds), ~0U,
                                    CLOSE_RANGE_CLOEXEC, "inherited fds"));
  auto entered = base::sys::chdir(p.cwd);
  bool cwd_entered = entered.has_value();
  if (!cwd_entered && entered.error().code() != EACCES && entered.error().code() != EPERM)
    return base::fail(std::move(entered).error().context("process.cwd"));
  if (cwd_entered) TRY_STATUS(check_cwd_inside_root(p.cwd));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the drop.
  if (!p.no_new_privileges && p.seccomp) TRY_STATUS(load_seccomp(*p.seccomp));
  if (p.capabilities) TRY_STATUS(drop_bounding(*p.capabilities));
  if (auto grouped = base::sys::setgroups(p.user.additional_gids, "process.user.additionalGids");
      !grouped && grouped.error().code() != EPERM)
    return grouped;
  (void)base::sys::prctl(PR_SET_KEEPCAPS, 1);
  TRY_STATUS(
      base::sys::setresgid(p.user.gid, std::to_string(p.user.gid)).map_error([](base::Error e) {
        return e.context("process.user.gid");
      }));
  TRY_STATUS(
      base::sys::setresuid(p.user.uid, std::to_string(p.user.uid)).map_error([](base::Error e) {
        return e.context("process.user.uid");
      }));
  (void)base::sys::prctl(PR_SET_KEEPCAPS, 0);
  if (p.capabilities) TRY_STATUS(set_capabilities(*p.capabilities));
  if (p.no_new_privileges) TRY_STATUS(base::sys::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, "no_new_privs"));
  ::umask(p.user.umask.value_or(022));
  if (!cwd_entered) {  // root could not enter it (root squash, a user-only mode): as the user
    TRY_STATUS(
        base::sys::chdir(p.cwd).map_error([](base::Error e) { return e.context("process.cwd"); }));
    TRY_STATUS(check_cwd_inside_root(p.cwd));
  }
  return {};
}

base::Status exec_process(const ProcessPlan& p, const std::string& path) {
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (p.no_new_privileges && p.seccomp) TRY_STATUS(load_seccomp(*p.seccomp));
  base::Error failed = base::sys::execve(path, argv.data(), envp.data());
  return base::fail(exec_error(path, lower_strerror(failed.code())));
}

base::Status apply_and_exec(const ProcessPlan& p, const std::string& path) {
  TRY_STATUS(become_process(p));
  return exec_process(p, path);
}

}  // namespace oci
