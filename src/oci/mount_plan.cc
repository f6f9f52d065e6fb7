#include "oci/mount_plan.h"

#include <sys/mount.h>  // glibc's MOUNT_ATTR_* too

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace oci {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off
  unsigned long flag;
};

constexpr std::array<FlagOption, 22> kFlags = {{
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
}};

constexpr std::array<std::pair<std::string_view, unsigned long>, 8> kPropagation = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Recursive attributes: name, MOUNT_ATTR_* bit, whether the option clears it.
struct RecursiveAttr {
  std::string_view name;
  uint64_t attr;
  bool clear;
};
constexpr std::array<RecursiveAttr, 8> kRecursive = {{
    {"rro", MOUNT_ATTR_RDONLY, false},
    {"rrw", MOUNT_ATTR_RDONLY, true},
    {"rnosuid", MOUNT_ATTR_NOSUID, false},
    {"rsuid", MOUNT_ATTR_NOSUID, true},
    {"rnodev", MOUNT_ATTR_NODEV, false},
    {"rdev", MOUNT_ATTR_NODEV, true},
    {"rnoexec", MOUNT_ATTR_NOEXEC, false},
    {"rexec", MOUNT_ATTR_NOEXEC, true},
}};

}  // namespace

base::Result<MountPlan> plan_mount(const Mount& m, size_t index, const std::string& bundle) {
  MountPlan p;
  p.destination = m.destination;
  p.type = m.type;
  p.source = m.source;
  for (const auto& opt : m.options) {
    if (opt == "bind" || opt == "rbind") {
      p.bind = true;
      p.recursive = p.recursive || opt == "rbind";
      continue;
    }
    if (opt == "defaults") continue;
    bool known = false;
    for (const auto& f : kFlags) {
      if (f.name != opt) continue;
      known = true;
      if (f.clear) {
        p.flags &= ~f.flag;
        p.clear |= f.flag;
      } else {
        p.flags |= f.flag;
        p.clear &= ~f.flag;
      }
    }
    for (const auto& [name, flag] : kPropagation) {
      if (name != opt) continue;
      known = true;
      p.propagation = flag;
    }
    for (const auto& r : kRecursive) {
      if (r.name != opt) continue;
      known = true;
      (r.clear ? p.recursive_clear : p.recursive_set) |= r.attr;
      (r.clear ? p.recursive_set : p.recursive_clear) &= ~r.attr;
    }
    if (known) continue;
    if (opt == "idmap" || opt == "ridmap")
      return base::fail_msg(
          fmt::format("mounts[{}].options: '{}' (id-mapped mounts) is not supported", index, opt));
    if (opt == "tmpcopyup" || opt == "nosymfollow" || opt == "copy-symlink")
      continue;  // hints some engines add
    if (opt.empty() || opt.find(',') != std::string::npos)
      return base::fail_msg(fmt::format("mounts[{}].options: bad option '{}'", index, opt));
    p.data += (p.data.empty() ? "" : ",") + opt;
  }
  if (p.type == "bind") p.bind = true;
  if (p.bind) {
    if (p.source.empty())
      return base::fail_msg(fmt::format("mounts[{}].source: a bind mount needs a source", index));
    if (p.source.front() != '/') p.source = bundle + "/" + p.source;
    p.type = "bind";
  } else if (p.type.empty()) {
    return base::fail_msg(
        fmt::format("mounts[{}].type: required unless the mount is a bind mount", index));
  }
  if (p.destination.find("/../") != std::string::npos || p.destination.ends_with("/.."))
    return base::fail_msg(fmt::format("mounts[{}].destination: must not contain '..'", index));
  return p;
}

}  // namespace oci
