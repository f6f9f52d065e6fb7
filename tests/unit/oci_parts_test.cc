// Unit tests of the runtime's decoders: names, mount options, resources,
// seccomp compilation, the eBPF device program's shape, the default spec.
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "oci/config.h"
#include "oci/default_spec.h"
#include "oci/device_filter.h"
#include "oci/mount_plan.h"
#include "oci/names.h"
#include "oci/resources.h"
#include "oci/seccomp_filter.h"

namespace {
using nlohmann::json;

TEST(OciNames, SignalsByNameNumberAndCase) {
  EXPECT_EQ(*oci::signal_from_name("KILL"), SIGKILL);
  EXPECT_EQ(*oci::signal_from_name("sigterm"), SIGTERM);
  EXPECT_EQ(*oci::signal_from_name("9"), 9);
  EXPECT_EQ(*oci::signal_from_name("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_FALSE(oci::signal_from_name("0"));
  EXPECT_FALSE(oci::signal_from_name("100"));
  EXPECT_FALSE(oci::signal_from_name("SIGNOPE"));
  EXPECT_FALSE(oci::signal_from_name(""));
}

TEST(OciNames, RlimitsAndCapabilities) {
  EXPECT_EQ(*oci::rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_FALSE(oci::rlimit_from_name("NOFILE"));
  EXPECT_EQ(*oci::capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_FALSE(oci::capability_from_name("SYS_ADMIN"));
  EXPECT_FALSE(oci::capability_from_name("CAP_FLY"));
  auto all = oci::all_capability_names();
  EXPECT_NE(std::find(all.begin(), all.end(), "CAP_CHOWN"), all.end());
}

TEST(OciMountPlan, OptionsBecomeFlagsPropagationAndData) {
  auto p = oci::plan_mount(
      {"/data", "tmpfs", "tmpfs", {"ro", "nosuid", "noexec", "rshared", "size=1m", "mode=755"}}, 0,
      "/bundle");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(p->propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(p->data, "size=1m,mode=755");
  EXPECT_FALSE(p->bind);

  auto b = oci::plan_mount({"/x", "", "relative/dir", {"rbind", "rw"}}, 2, "/bundle");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->bind && b->recursive);
  EXPECT_EQ(b->source, "/bundle/relative/dir");
  EXPECT_EQ(b->clear, static_cast<unsigned long>(MS_RDONLY));

  auto bad = oci::plan_mount({"/x", "", "", {"bind"}}, 4, "/b");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "mounts[4].source: a bind mount needs a source");
  EXPECT_FALSE(oci::plan_mount({"/x", "", "", {}}, 1, "/b"));
  EXPECT_FALSE(oci::plan_mount({"/a/../b", "tmpfs", "", {}}, 1, "/b"));
}

TEST(OciMountPlan, RecursiveAttributesAreSetOrClearedLastOneWinning) {
  auto p = oci::plan_mount(
      {"/x", "bind", "/src", {"rbind", "ro", "rro", "rnosuid", "rnoexec", "rexec"}}, 0, "/b");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->recursive_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
  EXPECT_EQ(p->recursive_clear, static_cast<uint64_t>(MOUNT_ATTR_NOEXEC));
  EXPECT_EQ(p->data, "") << "not passed to the filesystem";
  auto rw = oci::plan_mount({"/x", "bind", "/src", {"rbind", "rro", "rrw"}}, 0, "/b");
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->recursive_set, 0u);
  EXPECT_EQ(rw->recursive_clear, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
}

TEST(OciResources, ParsesAndNamesBadFields) {
  auto r = oci::parse_resources(json::parse(R"({"memory": {"limit": 1048576, "swap": 2097152},
      "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": "0-1"},
      "pids": {"limit": 10}, "blockIO": {"weight": 300},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}]})"),
                                "linux.resources");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r->memory_limit, 1048576);
  EXPECT_EQ(*r->cpu_shares, 512u);
  EXPECT_EQ(r->cpus, "0-1");
  EXPECT_EQ(r->hugepage_limits.at("2MB"), 0u);
  ASSERT_EQ(r->devices.size(), 2u);
  EXPECT_EQ(r->devices[1].type, 'c');
  EXPECT_EQ(r->devices[0].major, -1);

  struct Case {
    const char* json;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {R"({"memory": {"limit": -5}})",
            "linux.resources.memory.limit: must be -1 or a byte count"},
           {R"({"memory": {"limit": 100, "swap": 50}})",
            "linux.resources.memory.swap: must not be below"},
           {R"({"cpu": {"period": 5}})",
            "linux.resources.cpu.period: must be between 1000 and 1000000"},
           {R"({"pids": {}})", "linux.resources.pids.limit: required"},
           {R"({"devices": [{"allow": true, "access": "rwx"}]})",
            "linux.resources.devices[0].access"},
           {R"({"devices": [{"access": "r"}]})", "linux.resources.devices[0].allow: required"},
           {R"({"unified": {"../x": "1"}})",
            "linux.resources.unified.../x: not a cgroup file name"},
       }) {
    auto bad = oci::parse_resources(json::parse(c.json), "linux.resources");
    ASSERT_FALSE(bad) << c.json;
    EXPECT_NE(bad.error().message().find(c.error), std::string::npos) << bad.error().message();
  }
}

// Compiled programs are kept in /run/berth-oci/seccomp: a second compile of
// the same profile gives the same program, and a damaged or foreign cache
// file is never used (each file must hold the profile's exact text).
TEST(OciSeccomp, TheCacheGivesTheSameProgramAndIgnoresBadFiles) {
  auto profile = json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "write", "exit_group",
      "getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  auto first = oci::compile_seccomp(profile);
  ASSERT_TRUE(first && first->has_value());
  auto again = oci::compile_seccomp(profile);
  ASSERT_TRUE(again && again->has_value());
  auto same = [](const oci::SeccompProgram& a, const oci::SeccompProgram& b) {
    return a.flags == b.flags && a.instructions.size() == b.instructions.size() &&
           std::memcmp(a.instructions.data(), b.instructions.data(),
                       a.instructions.size() * sizeof(sock_filter)) == 0;
  };
  EXPECT_TRUE(same(**first, **again));
  // Every cache file rewritten as another profile's text with a program of
  // all-allow instructions: none of it may be taken.
  std::error_code ec;
  int damaged = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator("/run/berth-oci/seccomp", ec))
    if (e.is_regular_file()) {
      std::ofstream(e.path(), std::ios::trunc) << "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}\n0\n"
                                               << std::string(8, '\0');
      ++damaged;
    }
  EXPECT_GT(damaged, 0) << "the program was not cached";
  auto after = oci::compile_seccomp(profile);
  ASSERT_TRUE(after && after->has_value());
  EXPECT_TRUE(same(**first, **after));
}

TEST(OciSeccomp, CompilesProfilesAndRefusesWhatItCannotDo) {
  auto p =
      oci::compile_seccomp(json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "syscalls": [{"names": ["read", "write", "not_a_syscall_anywhere"], "action": "SCMP_ACT_ALLOW"},
                   {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]})"));
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_TRUE(p->has_value());
  EXPECT_GT((*p)->instructions.size(), 4u);
  EXPECT_NE((*p)->flags, 0u);
  EXPECT_FALSE(*oci::compile_seccomp(json()));  // no filter

  auto notify = oci::compile_seccomp(json::parse(R"({"defaultAction": "SCMP_ACT_NOTIFY"})"));
  ASSERT_FALSE(notify);
  EXPECT_NE(notify.error().message().find("SCMP_ACT_NOTIFY needs a seccomp listener"),
            std::string::npos);
  auto arg = oci::compile_seccomp(json::parse(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"));
  ASSERT_FALSE(arg);
  EXPECT_NE(arg.error().message().find("linux.seccomp.syscalls[0].args[0].index"),
            std::string::npos);
}

TEST(OciDeviceFilter, ProgramEndsAtACatchAllRuleAndOtherwiseDenies) {
  // A catch-all first rule ends the program when reached (rules are tested last to first).
  auto with_catch_all =
      oci::device_filter_program({{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}});
  auto without = oci::device_filter_program({{true, 'c', 1, 3, "rwm"}});
  ASSERT_FALSE(with_catch_all.empty());
  EXPECT_EQ(with_catch_all.back().code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ(without.back().code, BPF_JMP | BPF_EXIT);
  // Without a catch-all, the program ends with "return 0" (deny).
  EXPECT_EQ(without[without.size() - 2].imm, 0);
  // Each jump of a rule lands inside the program.
  for (size_t i = 0; i < with_catch_all.size(); ++i) {
    if (BPF_CLASS(with_catch_all[i].code) == BPF_JMP &&
        BPF_OP(with_catch_all[i].code) != BPF_EXIT) {
      EXPECT_LT(i + 1 + with_catch_all[i].off, with_catch_all.size());
    }
  }
}

TEST(OciDefaultSpec, BothVariantsParse) {
  for (bool rootless : {false, true}) {
    auto c = oci::parse_config(oci::default_spec(rootless, 1000, 1000));
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->process->args, std::vector<std::string>{"sh"});
    EXPECT_EQ(c->linux_section->uid_mappings.empty(), !rootless);
  }
}

}  // namespace
