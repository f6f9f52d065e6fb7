// The runtime spec, feature by feature: each test runs a bundle that uses one
// feature and checks from inside the container that it took effect.
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"

namespace {
using nlohmann::json;
using ocitest::Bundle;

TEST(Conformance, ArgsEnvCwdAndExitStatus) {
  Bundle b;
  b.config["process"]["env"] = {"PATH=/bin", "GREETING=hello there"};
  b.config["process"]["cwd"] = "/tmp";
  auto r = b.run_sh("echo \"$GREETING\"; pwd; exit 7");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "hello there\n/tmp\n");
}

TEST(Conformance, UserGroupsAndUmask) {
  Bundle b;
  b.config["process"]["user"] = {
      {"uid", 1234}, {"gid", 567}, {"additionalGids", {10, 20}}, {"umask", 077}};
  auto r = b.run_sh("id -u; id -g; id -G; umask");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1234\n567\n567 10 20\n0077\n");
}

TEST(Conformance, FiveCapabilitySets) {
  Bundle b;
  b.config["process"]["capabilities"] = {
      {"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"}},
      {"permitted", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
      {"effective", {"CAP_CHOWN", "CAP_KILL"}},
      {"inheritable", {"CAP_KILL", "CAP_NET_RAW"}},
      {"ambient", {"CAP_KILL"}}};
  auto r = b.run_sh("cat /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  using ocitest::cap_mask;
  using ocitest::status_field;
  EXPECT_EQ(status_field(r.out, "CapBnd"),
            cap_mask({CAP_CHOWN, CAP_KILL, CAP_NET_RAW, CAP_SETUID}));
  // After execve as root, permitted and effective gain the inheritable and ambient sets.
  EXPECT_EQ(status_field(r.out, "CapInh"), cap_mask({CAP_KILL, CAP_NET_RAW}));
  EXPECT_EQ(status_field(r.out, "CapAmb"), cap_mask({CAP_KILL}));
  EXPECT_EQ(status_field(r.out, "CapPrm"), cap_mask({CAP_CHOWN, CAP_KILL, CAP_NET_RAW}));
}

TEST(Conformance, CapabilitiesOfANonRootUser) {
  Bundle b;
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_NET_BIND_SERVICE", "CAP_KILL"}},
                                         {"permitted", {"CAP_NET_BIND_SERVICE"}},
                                         {"effective", {"CAP_NET_BIND_SERVICE"}},
                                         {"inheritable", {"CAP_NET_BIND_SERVICE"}},
                                         {"ambient", {"CAP_NET_BIND_SERVICE"}}};
  auto r = b.run_sh("cat /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ocitest::status_field(r.out, "CapEff"), ocitest::cap_mask({CAP_NET_BIND_SERVICE}));
  EXPECT_EQ(ocitest::status_field(r.out, "CapAmb"), ocitest::cap_mask({CAP_NET_BIND_SERVICE}));
}

TEST(Conformance, NoNewPrivileges) {
  for (bool nnp : {true, false}) {
    Bundle b;
    b.config["process"]["noNewPrivileges"] = nnp;
    auto r = b.run_sh("grep NoNewPrivs /proc/self/status");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, fmt::format("NoNewPrivs:\t{}\n", nnp ? 1 : 0));
  }
}

TEST(Conformance, Rlimits) {
  Bundle b;
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 800}},
                                    {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}};
  auto r = b.run_sh("grep -E 'open files|core file' /proc/self/limits");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Max core file size        0                    0"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Max open files            512                  800"), std::string::npos)
      << r.out;
}

TEST(Conformance, HostnameAndDomainname) {
  Bundle b;
  b.config["hostname"] = "boat";
  b.config["domainname"] = "harbour.test";
  auto r = b.run_sh("hostname; cat /proc/sys/kernel/domainname");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "boat\nharbour.test\n");
}

TEST(Conformance, EveryNewNamespaceDiffersFromTheHost) {
  Bundle b;
  auto r =
      b.run_sh("echo $$; for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 2), "1\n") << "the program is pid 1 of its pid namespace";
  for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    char host[128] = {};
    ASSERT_GT(readlink(fmt::format("/proc/self/ns/{}", n).c_str(), host, sizeof host - 1), 0);
    EXPECT_EQ(r.out.find(host), std::string::npos) << n << " is the host's";
  }
}

TEST(Conformance, JoinsANamespaceByPath) {
  Bundle first;
  int pid = first.start_sleeping();
  Bundle b;
  for (auto& ns : b.config["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = fmt::format("/proc/{}/ns/net", pid);
  auto r = b.run_sh("readlink /proc/self/ns/net");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  char theirs[128] = {};
  ASSERT_GT(readlink(fmt::format("/proc/{}/ns/net", pid).c_str(), theirs, sizeof theirs - 1), 0);
  EXPECT_EQ(r.out, std::string(theirs) + "\n");
}

TEST(Conformance, UserNamespaceWithMappings) {
  Bundle b;
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
  // sysfs and mqueue of the host cannot be mounted from a user namespace without
  // owning them; /sys falls back to a bind mount.
  auto r = b.run_sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0     100000      65536"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0     200000      65536"), std::string::npos) << r.out;
  // Root inside; the host's root is not mapped, so its files belong to the overflow id.
  EXPECT_NE(r.out.find("\n0\n65534\n"), std::string::npos) << r.out;
}

TEST(Conformance, MountsWithOptions) {
  Bundle b;
  e2e::TempDir shared;
  e2e::write_file(shared / "note", "from the host\n");
  b.config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", shared.path()},
                                {"options", {"rbind", "ro", "nosuid", "nodev"}}});
  b.config["mounts"].push_back({{"destination", "/scratch"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"noexec", "nosuid", "size=1m", "mode=700"}}});
  auto r = b.run_sh(
      "cat /data/note; grep -E ' /data | /scratch ' /proc/self/mountinfo; stat -c %a /scratch; "
      "touch /data/x 2>&1 || echo refused");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("from the host"), std::string::npos);
  EXPECT_NE(r.out.find(" /data ro,nosuid,nodev"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" /scratch rw,nosuid,noexec"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("size=1024k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n700\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refused"), std::string::npos);
  EXPECT_FALSE(e2e::exists(shared / "x"));
}

TEST(Conformance, SpecialFilesystems) {
  Bundle b;
  auto r = b.run_sh(
      "grep -E ' /(proc|sys|dev|dev/pts|dev/shm|dev/mqueue|sys/fs/cgroup) ' /proc/self/mountinfo | "
      "awk '{for (i = 7; i <= NF; i++) if ($i == \"-\") print $5, $(i + 1)}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* m : {"/proc proc", "/dev tmpfs", "/dev/pts devpts", "/dev/shm tmpfs",
                        "/dev/mqueue mqueue", "/sys sysfs", "/sys/fs/cgroup tmpfs"})
    EXPECT_NE(r.out.find(m), std::string::npos) << m << " missing in\n" << r.out;
}

TEST(Conformance, DevptsIsANewInstance) {
  Bundle b;
  auto r = b.run_sh("grep ' /dev/pts ' /proc/self/mountinfo; ls /dev/pts");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ptmxmode=666"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.find('\n') + 1), "ptmx\n") << "the host's ptys are visible";
}

TEST(Conformance, ReadonlyRoot) {
  Bundle b;
  b.config["root"]["readonly"] = true;
  auto r = b.run_sh("touch /newfile 2>&1; awk '$5 == \"/\"' /proc/self/mountinfo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" / ro,"), std::string::npos) << r.out;
}

TEST(Conformance, MaskedAndReadonlyPaths) {
  Bundle b;
  auto r = b.run_sh(
      "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/ns_last_pid) "
      "2>&1; "
      "grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6");
  EXPECT_NE(r.out.find("0\n0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ro,nosuid,nodev,noexec"), std::string::npos) << r.out;
}

TEST(Conformance, DefaultAndListedDevices) {
  Bundle b;
  b.config["linux"]["devices"] = {{{"path", "/dev/extra/fuse"},
                                   {"type", "c"},
                                   {"major", 10},
                                   {"minor", 229},
                                   {"fileMode", 0620},
                                   {"uid", 7},
                                   {"gid", 8}}};
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rw"}});
  auto r = b.run_sh(
      "for d in null zero full random urandom tty extra/fuse; do stat -c '%n %t:%T %a %u:%g' "
      "/dev/$d; done; "
      "readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/dev/null 1:3 666 0:0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/extra/fuse a:e5 620 7:8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pts/ptmx\n/proc/self/fd\n4\n"), std::string::npos) << r.out;
}

TEST(Conformance, DeviceCgroupDeniesUnlistedDevices) {
  Bundle b;
  // CAP_MKNOD lets the container make the node; the device rules must still refuse it.
  b.config["process"]["capabilities"]["bounding"].push_back("CAP_MKNOD");
  b.config["process"]["capabilities"]["effective"].push_back("CAP_MKNOD");
  b.config["process"]["capabilities"]["permitted"].push_back("CAP_MKNOD");
  auto r = b.run_sh(
      "mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem > /dev/null 2>&1 && echo READ || echo denied");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "denied\n");
}

TEST(Conformance, Sysctl) {
  Bundle b;
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1000"}};
  auto r = b.run_sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n1000\n");
}

TEST(Conformance, OomScoreAdj) {
  Bundle b;
  b.config["process"]["oomScoreAdj"] = 500;
  auto r = b.run_sh("cat /proc/self/oom_score_adj");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "500\n");
}

TEST(Conformance, SeccompErrnoAndArgumentFilters) {
  Bundle b;
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
      {"syscalls",
       {{{"names", {"sethostname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}},
        // kill with signal 0 is refused (EPERM); other signals pass.
        {{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"args", {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"sync"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  auto r = b.run_sh(
      "hostname x 2>&1; kill -0 $$ 2>&1; kill -CONT $$ && echo continued; "
      "(sync); echo after $?");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("continued"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after 159"), std::string::npos) << "sync must kill (SIGSYS): " << r.out;
}

TEST(Conformance, CgroupLimitsAreVisibleInside) {
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  b.config["linux"]["resources"]["pids"] = {{"limit", 42}};
  b.config["linux"]["resources"]["cpu"] = {
      {"quota", 50000}, {"period", 100000}, {"shares", 512}, {"cpus", "0"}};
  auto r = b.run_sh(
      "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us "
      "cpu/cpu.shares "
      "cpuset/cpuset.cpus; grep memory /proc/self/cgroup");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "67108864\n42\n50000\n512\n0\n4:memory:/\n");
}

TEST(Conformance, BlockIoThrottleAndHugetlbLimits) {
  struct stat st {};
  ASSERT_EQ(stat("/", &st), 0);
  unsigned major = major(st.st_dev), minor = minor(st.st_dev);
  if (!e2e::exists(fmt::format("/sys/dev/block/{}:{}", major, minor)))
    GTEST_SKIP() << "/ is not on a block device";
  Bundle b;
  b.config["linux"]["resources"]["blockIO"] = {
      {"throttleReadBpsDevice", {{{"major", major}, {"minor", minor}, {"rate", 1048576}}}},
      {"throttleWriteIOPSDevice", {{{"major", major}, {"minor", minor}, {"rate", 300}}}}};
  b.config["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 4194304}}};
  // On this hybrid host hugetlb lives in the v2 hierarchy, mounted as "unified".
  auto r = b.run_sh(
      "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
      "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device; "
      "cat /sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes 2>/dev/null || cat "
      "/sys/fs/cgroup/unified/hugetlb.2MB.max");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{0}:{1} 1048576\n{0}:{1} 300\n4194304\n", major, minor));
}

TEST(Conformance, PidsLimitIsEnforced) {
  Bundle b;
  b.config["linux"]["resources"]["pids"] = {{"limit", 3}};
  auto r = b.run_sh("for i in 1 2 3 4 5; do sleep 5 & done");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Resource temporarily unavailable"), std::string::npos) << r.err;
}

TEST(Conformance, HooksGetStateAndRunInOrder) {
  Bundle b;
  e2e::TempDir log;
  std::string rec = log / "order";
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"},
                {"args", {"sh", "-c", fmt::format("read -r s; echo {} \"$s\" >> {}", name, rec)}}};
  };
  b.config["hooks"] = {{"prestart", {hook("prestart")}},
                       {"createRuntime", {hook("createRuntime")}},
                       {"createContainer", {hook("createContainer")}},
                       {"poststart", {hook("poststart")}},
                       {"poststop", {hook("poststop")}}};
  // startContainer runs inside the container: its path resolves in the container's root.
  b.config["mounts"].push_back(
      {{"destination", "/log"}, {"type", "bind"}, {"source", log.path()}, {"options", {"rbind"}}});
  b.config["hooks"]["startContainer"] = {
      {{"path", "/bin/sh"},
       {"args", {"sh", "-c", "read -r s; echo startContainer \"$s\" >> /log/order"}}}};
  auto r = b.run_sh("echo program >> /log/order");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string order = e2e::read_file(rec);
  std::vector<std::string> stages;
  size_t pos = 0;
  while (pos < order.size()) {
    size_t end = order.find('\n', pos);
    std::string line = order.substr(pos, end - pos);
    stages.push_back(line.substr(0, line.find(' ')));
    if (line != "program") {
      auto state = json::parse(line.substr(line.find(' ') + 1));
      EXPECT_EQ(state["id"], b.id()) << line;
      // The create phase's hooks see "created" (runc and crun give that too).
      std::string stage = line.substr(0, line.find(' '));
      const char* status = stage == "poststart"  ? "running"
                           : stage == "poststop" ? "stopped"
                                                 : "created";
      EXPECT_EQ(state["status"], status) << line;
      if (line.rfind("poststop", 0) != 0) {
        EXPECT_GT(state["pid"].get<int>(), 0) << line;
      }
    }
    pos = end + 1;
  }
  std::vector<std::string> want = {"prestart", "createRuntime", "createContainer", "startContainer",
                                   "program",  "poststart",     "poststop"};
  // poststart runs once the program has been executed; the two may finish in either order.
  if (stages.size() == want.size() && stages[4] == "poststart") std::swap(stages[4], stages[5]);
  EXPECT_EQ(stages, want) << order;
}

TEST(Conformance, HookTimeoutFailsCreateAndLeavesNothing) {
  Bundle b;
  b.config["hooks"] = {
      {"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  b.config["process"]["args"] = {"true"};
  b.save();
  auto r = b.oci({"create", "--bundle", b.dir(), b.id()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("hooks.prestart[0] /bin/sleep: timed out after 1 s"), std::string::npos)
      << r.err;
  EXPECT_FALSE(e2e::exists(b.state_root() + "/" + b.id()));
  EXPECT_FALSE(ocitest::cgroup_dir_exists(b.id()));
}

TEST(Conformance, NoPivot) {
  Bundle b;
  b.config["process"]["args"] = {"sh", "-c", "ls /"};
  b.save();
  auto r = b.oci({"run", "--no-pivot", "--bundle", b.dir(), b.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bin\n"), std::string::npos);
}

TEST(Conformance, RootfsPropagation) {
  Bundle b;
  b.config["linux"]["rootfsPropagation"] = "shared";
  auto r = b.run_sh("awk '$5 == \"/\"' /proc/self/mountinfo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("shared:"), std::string::npos) << r.out;
}

TEST(Conformance, PreservedFdsReachTheContainer) {
  Bundle b;
  e2e::TempDir d;
  e2e::write_file(d / "secret", "passed in\n");
  b.config["process"]["args"] = {"sh", "-c", "cat <&3; exec sleep 1000"};
  b.save();
  auto r =
      e2e::Process(
          {"/bin/sh", "-c",
           fmt::format("exec 3<{} 4<{}; exec {} --root {} create --preserve-fds 1 --bundle {} {}",
                       d / "secret", d.path(), ocitest::berth_oci_bin(), b.state_root(), b.dir(),
                       b.id())})
          .wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(b.oci({"start", b.id()}).exit_code, 0);
  int pid = nlohmann::json::parse(b.oci({"state", b.id()}).out)["pid"];
  ASSERT_TRUE(e2e::eventually(
      [&] { return e2e::read_file(fmt::format("/proc/{}/comm", pid)) == "sleep\n"; }));
  std::vector<std::string> fds;
  for (const auto& e : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid)))
    fds.push_back(e.path().filename());
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << "fd 3 preserved, fd 4 closed";
  char target[4096] = {};
  ASSERT_GT(readlink(fmt::format("/proc/{}/fd/3", pid).c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target), d / "secret");
}

}  // namespace
