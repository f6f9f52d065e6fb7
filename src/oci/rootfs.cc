#include "oci/rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "oci/json_fields.h"

namespace oci {
namespace {

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

base::Status do_mount(const std::string& source, const std::string& target, const char* type,
                      unsigned long flags, const std::string& data, const std::string& what) {
  return base::sys::mount(source, target, type, flags, data, what);
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

base::Result<base::UniqueFd> open_in_root(int root_fd, const std::string& rel) {
  return base::sys::openat2(root_fd, rel.empty() ? "." : rel, O_PATH | O_CLOEXEC, 0,
                            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, rel);
}

// Opens `dest` inside the tree at root_fd (symlinks resolve inside it),
// creating missing directories, and the last component as a file if `as_file`.
base::Result<base::UniqueFd> make_target(int root_fd, const std::string& dest, bool as_file) {
  // Most targets exist (the image's /proc, /dev, /sys): one lookup. The walk
  // below resolves each prefix from the root the same way, so it opens the
  // same file; it is only needed to make what is missing.
  auto parts = components(dest);
  std::string clean;  // without empty and "." parts, as the walk reads it ("/etc/hosts/." too)
  for (const auto& p : parts) clean += (clean.empty() ? "" : "/") + p;
  auto whole = open_in_root(root_fd, clean);
  if (whole || whole.error().code() != ENOENT) return whole;
  std::string prefix;
  base::UniqueFd parent = TRY(open_in_root(root_fd, ""));
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string next = prefix.empty() ? parts[i] : prefix + "/" + parts[i];
    auto fd = open_in_root(root_fd, next);
    if (!fd && fd.error().code() == ENOENT) {
      bool last = i + 1 == parts.size();
      if (last && as_file) {
        auto f = base::sys::openat(parent.get(), parts[i], O_CREAT | O_WRONLY | O_NOFOLLOW, 0644);
        if (!f && f.error().code() != EEXIST)
          return base::fail(base::Error::sys(f.error().code(), "create", dest));
      } else if (auto made = base::sys::mkdirat(parent.get(), parts[i], 0755, dest);
                 !made && made.error().code() != EEXIST) {
        return base::fail(std::move(made).error());
      }
      fd = open_in_root(root_fd, next);
    }
    if (!fd) return base::fail(std::move(fd).error());
    parent = std::move(*fd);
    prefix = next;
  }
  return parent;
}

// Flags the kernel will not let a bind remount drop (locked by a user namespace).
unsigned long locked_flags(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                       MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                       MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK;

// Applies per-mount flags to a bind mount (the bind itself ignores them).
base::Status remount_bind(const std::string& path, unsigned long flags, unsigned long clear,
                          const std::string& what) {
  if ((flags & kRemountable) == 0) return {};
  unsigned long current = locked_flags(path);
  unsigned long want = ((current & ~clear) | flags) & kRemountable;
  return do_mount("", path, nullptr, MS_REMOUNT | MS_BIND | want, "", what);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

base::Status mount_cgroup(int root_fd, const MountPlan& m, const RootfsPlan& plan,
                          const std::string& target, const std::string& what) {
  bool v2_only = plan.cgroup_dirs.size() == 1 && plan.cgroup_dirs[0].first.empty();
  if (v2_only) {
    if (do_mount("cgroup2", target, "cgroup2", m.flags, "", what)) return {};
    TRY_STATUS(do_mount(plan.cgroup_dirs[0].second, target, nullptr, MS_BIND, "", what));
    base::UniqueFd top = TRY(make_target(root_fd, m.destination, false));
    return remount_bind(fd_path(top.get()), m.flags, m.clear, what);
  }
  TRY_STATUS(
      do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", what));
  for (const auto& [controllers, dir] : plan.cgroup_dirs) {
    std::string name = controllers.empty() ? "unified" : controllers;
    std::string dest = fmt::format("{}/{}", m.destination, name);
    std::string sub_what = fmt::format("{}/{}", what, name);
    base::UniqueFd sub = TRY(make_target(root_fd, dest, false));
    TRY_STATUS(do_mount(dir, fd_path(sub.get()), nullptr, MS_BIND, "", sub_what));
    base::UniqueFd top = TRY(make_target(root_fd, dest, false));
    TRY_STATUS(remount_bind(fd_path(top.get()), m.flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, m.clear,
                            sub_what));
    if (controllers == "cpu,cpuacct") {  // the names programs look for
      for (const char* alias : {"cpu", "cpuacct"})
        (void)base::sys::symlinkat(name, top.get(), "../" + std::string(alias));
    }
  }
  if (m.flags & MS_RDONLY) {
    base::UniqueFd top = TRY(make_target(root_fd, m.destination, false));
    return do_mount("", fd_path(top.get()), nullptr,
                    MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", what);
  }
  return {};
}

base::Status mount_one(int root_fd, const MountPlan& m, const RootfsPlan& plan, size_t index) {
  std::string what = fmt::format("mounts[{}] {}", index, m.destination);
  bool as_file = m.bind && !is_dir(m.source);
  if (m.bind) {
    if (auto found = base::sys::access(m.source, F_OK); !found)
      return base::fail(
          base::Error::sys(found.error().code(), "bind source", m.source).context(what));
  }
  base::UniqueFd target = TRY_CTX(make_target(root_fd, m.destination, as_file), what);
  std::string tpath = fd_path(target.get());
  if (m.bind) {
    TRY_STATUS(do_mount(m.source, tpath, nullptr, MS_BIND | (m.recursive ? MS_REC : 0), "", what));
  } else if (m.type == "cgroup" || m.type == "cgroup2") {
    TRY_STATUS(mount_cgroup(root_fd, m, plan, tpath, what));
  } else {
    auto mounted = do_mount(m.source.empty() ? m.type : m.source, tpath, m.type.c_str(), m.flags,
                            m.data, what);
    if (!mounted && (m.type == "sysfs" || m.type == "mqueue") && mounted.error().code() == EPERM) {
      // Without a network (or ipc) namespace of its own the kernel refuses a new sysfs
      // (mqueue); fall back to the host's, as runc does.
      TRY_STATUS(do_mount(m.type == "sysfs" ? "/sys" : "/dev/mqueue", tpath, nullptr,
                          MS_BIND | MS_REC, "", what));
      base::UniqueFd top = TRY(make_target(root_fd, m.destination, false));
      TRY_STATUS(remount_bind(fd_path(top.get()), m.flags, m.clear, what));
    } else if (!mounted) {
      return mounted;
    }
  }
  if (m.bind || m.propagation || m.recursive_set || m.recursive_clear) {
    base::UniqueFd top = TRY_CTX(make_target(root_fd, m.destination, as_file), what);
    if (m.bind) TRY_STATUS(remount_bind(fd_path(top.get()), m.flags, m.clear, what));
    if (m.propagation)
      TRY_STATUS(do_mount("", fd_path(top.get()), nullptr, m.propagation, "", what));
    // "rro" and friends: the mounts below the destination too (a plain "ro"
    // bind leaves a submount of its source writable).
    if (m.recursive_set || m.recursive_clear)
      TRY_STATUS(base::sys::mount_setattr(fd_path(top.get()), true, m.recursive_set,
                                          m.recursive_clear, what));
  }
  return {};
}

base::Status make_device(int root_fd, const DeviceNode& d, bool bind_instead) {
  std::string what = "device " + d.path;
  auto slash = d.path.rfind('/');
  base::UniqueFd dir = TRY_CTX(make_target(root_fd, d.path.substr(0, slash), false), what);
  std::string name = d.path.substr(slash + 1);
  if (bind_instead) {
    base::UniqueFd file = TRY_CTX(make_target(root_fd, d.path, true), what);
    return do_mount(d.path, fd_path(file.get()), nullptr, MS_BIND, "", what);
  }
  mode_t kind = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  (void)base::sys::unlinkat(dir.get(), name, 0);
  TRY_STATUS(base::sys::mknodat(dir.get(), name, kind | (d.mode & 07777), dev, d.path));
  base::UniqueFd node = TRY_CTX(make_target(root_fd, d.path, false), what);
  auto owned = base::sys::fchmodat(AT_FDCWD, fd_path(node.get()), d.mode & 07777);
  if (owned) owned = base::sys::fchownat(node.get(), "", d.uid, d.gid, AT_EMPTY_PATH);
  if (!owned) return base::fail(base::Error::sys(owned.error().code(), "chmod/chown", d.path));
  return {};
}

bool mounts_dev_tmpfs(const RootfsPlan& plan) {
  for (const auto& m : plan.mounts)
    if (m.destination == "/dev" && !m.bind) return true;
  return false;
}

base::Status populate_dev(int root_fd, const RootfsPlan& plan) {
  static const DeviceNode kDefault[] = {
      {"/dev/null", 1, 3, 0666, 0, 0, 'c'},    {"/dev/zero", 1, 5, 0666, 0, 0, 'c'},
      {"/dev/full", 1, 7, 0666, 0, 0, 'c'},    {"/dev/random", 1, 8, 0666, 0, 0, 'c'},
      {"/dev/urandom", 1, 9, 0666, 0, 0, 'c'}, {"/dev/tty", 5, 0, 0666, 0, 0, 'c'},
  };
  if (mounts_dev_tmpfs(plan)) {
    for (const auto& d : kDefault) {
      bool listed = false;
      for (const auto& c : plan.devices) listed = listed || c.path == d.path;
      if (!listed) TRY_STATUS(make_device(root_fd, d, plan.in_user_namespace));
    }
    base::UniqueFd dev = TRY(make_target(root_fd, "/dev", false));
    static const std::pair<const char*, const char*> kLinks[] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (const auto& [target, name] : kLinks) {
      auto linked = base::sys::symlinkat(target, dev.get(), name, std::string("/dev/") + name);
      if (!linked && linked.error().code() != EEXIST) return linked;
    }
  }
  for (const auto& d : plan.devices) TRY_STATUS(make_device(root_fd, d, plan.in_user_namespace));
  return {};
}

}  // namespace

base::Result<std::vector<DeviceNode>> parse_devices(const nlohmann::json& j) {
  std::vector<DeviceNode> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return base::fail_msg("linux.devices: must be an array");
  for (size_t i = 0; i < j.size(); ++i) {
    Fields f = TRY(Fields::object(j[i], fmt::format("linux.devices[{}]", i)));
    DeviceNode d;
    d.path = TRY(f.str("path", true));
    if (d.path.size() < 2 || d.path.front() != '/' || d.path.find("..") != std::string::npos)
      return base::fail_msg(fmt::format("{}: must be an absolute path without '..'", f.at("path")));
    auto type_field =
        f.str("type", true);  // (not TRY: GCC 12 misreads it as maybe-uninitialized here)
    if (!type_field) return base::fail(std::move(type_field).error());
    const std::string type = *type_field;
    if (type != "c" && type != "b" && type != "u" && type != "p")
      return base::fail_msg(fmt::format("{}: must be c, b, u or p", f.at("type")));
    d.type = type[0] == 'u' ? 'c' : type[0];
    if (d.type != 'p') {
      d.major = TRY(f.integer("major", 0, 4095)).value_or(-1);
      d.minor = TRY(f.integer("minor", 0, 1048575)).value_or(-1);
      if (d.major < 0 || d.minor < 0)
        return base::fail_msg(fmt::format("{}: needs major and minor", f.at("major")));
    }
    if (auto m = TRY(f.integer("fileMode", 0, 07777))) d.mode = static_cast<mode_t>(*m);
    d.uid = TRY(f.u32("uid", false));
    d.gid = TRY(f.u32("gid", false));
    out.push_back(d);
  }
  return out;
}

base::Status bind_rootfs(const RootfsPlan& plan) {
  if (!plan.shared_mount_ns) {
    unsigned long root_prop = MS_SLAVE | MS_REC;
    if (plan.propagation == "private" || plan.propagation == "rprivate")
      root_prop = MS_PRIVATE | MS_REC;
    TRY_STATUS(do_mount("", "/", nullptr, root_prop, "", "/ (propagation)"));
  }
  return do_mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, "",
                  "root.path " + plan.rootfs);
}

base::Status populate_rootfs(const RootfsPlan& plan) {
  base::UniqueFd root = TRY(base::sys::open(plan.rootfs, O_PATH | O_DIRECTORY));
  for (size_t i = 0; i < plan.mounts.size(); ++i)
    TRY_STATUS(mount_one(root.get(), plan.mounts[i], plan, i));
  TRY_STATUS(populate_dev(root.get(), plan));
  return {};
}

base::Status enter_rootfs(const RootfsPlan& plan) {
  if (plan.shared_mount_ns) {
    TRY_STATUS(base::sys::chdir(plan.rootfs));
    TRY_STATUS(base::sys::chroot(".", plan.rootfs));
  } else if (plan.no_pivot) {
    TRY_STATUS(base::sys::chdir(plan.rootfs));
    TRY_STATUS(do_mount(plan.rootfs, "/", nullptr, MS_MOVE, "", "move root"));
    TRY_STATUS(base::sys::chroot(".", plan.rootfs));
  } else {
    base::UniqueFd old_root = TRY(base::sys::open("/", O_DIRECTORY | O_RDONLY));
    base::UniqueFd new_root = TRY(base::sys::open(plan.rootfs, O_DIRECTORY | O_RDONLY));
    TRY_STATUS(base::sys::fchdir(new_root.get(), plan.rootfs));
    TRY_STATUS(base::sys::pivot_root(".", ".", plan.rootfs));
    TRY_STATUS(base::sys::fchdir(old_root.get(), "old root"));
    // Keep the host from seeing the unmount of the old root.
    TRY_STATUS(do_mount("", ".", nullptr, MS_SLAVE | MS_REC, "", "old root"));
    TRY_STATUS(base::sys::umount2(".", MNT_DETACH, "old root"));
  }
  TRY_STATUS(base::sys::chdir("/"));
  for (const auto& [file, value] : plan.sysctl)
    TRY_STATUS(base::write_text(file, value).map_error([](base::Error e) {
      return e.context("linux.sysctl");
    }));
  for (const auto& p : plan.masked_paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;  // nothing to hide
    if (S_ISDIR(st.st_mode))
      TRY_STATUS(do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k", "maskedPaths " + p));
    else
      TRY_STATUS(do_mount("/dev/null", p, nullptr, MS_BIND, "", "maskedPaths " + p));
  }
  for (const auto& p : plan.readonly_paths) {
    if (::access(p.c_str(), F_OK) != 0) continue;
    TRY_STATUS(do_mount(p, p, nullptr, MS_BIND | MS_REC, "", "readonlyPaths " + p));
    TRY_STATUS(
        remount_bind(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, "readonlyPaths " + p));
  }
  if (!plan.propagation.empty() && plan.propagation != "rprivate" &&
      plan.propagation != "private") {
    static const std::pair<const char*, unsigned long> kProp[] = {
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}};
    for (const auto& [name, flag] : kProp)
      if (plan.propagation == name)
        TRY_STATUS(do_mount("", "/", nullptr, flag, "", "rootfsPropagation"));
  }
  if (plan.readonly) TRY_STATUS(remount_bind("/", MS_RDONLY, 0, "root.readonly"));
  return {};
}

base::Status release_shared_rootfs(const std::string& ns_path, const std::string& rootfs) {
  auto ns = base::sys::open(ns_path, O_RDONLY);
  if (!ns) return {};  // the namespace's holder is gone, and its mounts with it
  pid_t pid = TRY(base::sys::fork("release the container's root"));
  if (pid == 0) {
    if (auto entered = base::sys::setns(ns->get(), CLONE_NEWNS); !entered)
      ::_exit(entered.error().code());
    auto unmounted = base::sys::umount2(rootfs, MNT_DETACH);
    ::_exit(unmounted || unmounted.error().code() == EINVAL ? 0 : unmounted.error().code());
  }
  auto waited = base::sys::waitpid(pid, false);
  int status = waited && *waited ? **waited : 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return base::fail(base::Error::sys(WEXITSTATUS(status), "unmount", rootfs)
                          .context("release the container's root in " + ns_path));
  return {};
}

base::Status bind_console(const std::string& slave_path) {
  (void)base::sys::open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW, 0600);
  return do_mount(slave_path, "/dev/console", nullptr, MS_BIND, "", "/dev/console");
}

}  // namespace oci
