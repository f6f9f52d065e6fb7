// features — what this runtime supports, as the runtime-spec's features JSON.
#include <seccomp.h>

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/berth-oci/commands.h"
#include "oci/names.h"

namespace berth_oci {

void add_features(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("features", "print the features this runtime supports");
  cmd->callback([&g] {
    (void)g;
    const scmp_version* v = seccomp_version();
    nlohmann::json j = {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.1.0"},
        {"hooks",
         {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
          "poststop"}},
        {"mountOptions", {"async",         "atime",      "bind",      "defaults", "dev",
                          "diratime",      "dirsync",    "exec",      "mand",     "noatime",
                          "nodev",         "nodiratime", "noexec",    "nomand",   "norelatime",
                          "nostrictatime", "nosuid",     "private",   "rbind",    "relatime",
                          "remount",       "ro",         "rprivate",  "rshared",  "rslave",
                          "runbindable",   "rw",         "shared",    "slave",    "strictatime",
                          "suid",          "sync",       "unbindable"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
          {"capabilities", oci::all_capability_names()},
          {"cgroup",
           {{"v1", true},
            {"v2", true},
            {"systemd", false},
            {"systemdUser", false},
            {"rdma", false}}},
          {"seccomp",
           {{"enabled", true},
            {"actions",
             {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
              "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
            {"operators",
             {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
              "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
            {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}},
            {"knownFlags",
             {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
              "SECCOMP_FILTER_FLAG_TSYNC"}},
            {"supportedFlags",
             {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
              "SECCOMP_FILTER_FLAG_TSYNC"}}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}},
          {"intelRdt", {{"enabled", false}}}}},
        {"annotations",
         {{"org.opencontainers.runc.version", "berth-oci 0.1.0"},
          {"io.github.seccomp.libseccomp.version",
           fmt::format("{}.{}.{}", v->major, v->minor, v->micro)}}},
    };
    std::printf("%s\n", j.dump(2).c_str());
  });
}

}  // namespace berth_oci
