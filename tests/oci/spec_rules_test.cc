// The runtime spec's rules that the OCI validation suite and real engines
// depend on, each checked against the real berth-oci binary: a container
// without a process; poststart/poststop hooks that fail; namespaces inherited
// or joined by path (the mount namespace included); seccomp rules with several
// conditions on one argument and profiles that deny what the runtime itself
// would call; the zeros engines send for "not set". Every test removes what it
// made (Bundle's destructor; shared-namespace tests check no mount is left).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"

namespace {
using nlohmann::json;
using ocitest::Bundle;

std::string ns_link(const std::string& path) {
  char buf[128] = {};
  if (::readlink(path.c_str(), buf, sizeof buf - 1) < 0) return "";
  return buf;
}

// Mount points at or below `dir` in the mount namespace of `pid` ("self").
int mounts_below(const std::string& pid, const std::string& dir) {
  std::ifstream in("/proc/" + pid + "/mountinfo");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == dir || point.rfind(dir + "/", 0) == 0) ++n;
  }
  return n;
}

void remove_namespace(json& config, const std::string& type) {
  auto& list = config["linux"]["namespaces"];
  for (auto it = list.begin(); it != list.end(); ++it)
    if ((*it)["type"] == type) {
      list.erase(it);
      return;
    }
}

std::string cgroup_file(const Bundle& b, const std::string& controller, const std::string& file) {
  return fmt::format("/sys/fs/cgroup/{}/berth-oci-test/{}/{}", controller, b.id(), file);
}

TEST(SpecRules, ACreatedContainerWithoutAProcessCannotStart) {
  Bundle b;
  b.config.erase("process");
  b.save();
  auto c = b.oci({"create", "--bundle", b.dir(), b.id()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(b.status(), "created");
  auto s = b.oci({"start", b.id()});
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.err.find("process: not set in config.json"), std::string::npos) << s.err;
  EXPECT_EQ(b.oci({"delete", "--force", b.id()}).exit_code, 0);
}

TEST(SpecRules, FailingPoststartAndPoststopHooksWarnAndTheRestStillRun) {
  Bundle b;
  e2e::TempDir log;
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"},
                {"args", {"sh", "-c", fmt::format("echo {} >> {}", name, log / "ran")}}};
  };
  json fail = {{"path", "/bin/false"}};
  b.config["hooks"] = {{"poststart", {fail, hook("poststart")}},
                       {"poststop", {fail, hook("poststop")}}};
  b.config["process"]["args"] = {"sleep", "1000"};
  b.save();
  ASSERT_EQ(b.oci({"create", "--bundle", b.dir(), b.id()}).exit_code, 0);
  auto s = b.oci({"start", b.id()});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.err.find("warning: hooks.poststart[0] /bin/false: exit status 1"), std::string::npos)
      << s.err;
  EXPECT_EQ(b.status(), "running");
  auto d = b.oci({"delete", "--force", b.id()});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.err.find("warning: hooks.poststop[0] /bin/false: exit status 1"), std::string::npos)
      << d.err;
  EXPECT_EQ(b.status(), "") << "delete goes on after a failing poststop hook";
  EXPECT_EQ(e2e::read_file(log / "ran"), "poststart\npoststop\n");
}

TEST(SpecRules, WithoutAMountNamespaceTheContainerSharesTheRuntimesAndLeavesNoMount) {
  Bundle b;
  remove_namespace(b.config, "mount");
  auto r = b.run_sh("readlink /proc/self/ns/mnt; test -x /bin/busybox && echo own-root");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ns_link("/proc/self/ns/mnt") + "\nown-root\n");
  EXPECT_EQ(mounts_below("self", b.rootfs()), 0) << "run (create..delete) left mounts behind";
}

TEST(SpecRules, JoinsAMountAndUtsNamespaceByPathAndNamesTheJoinedHost) {
  e2e::Process holder({"/usr/bin/unshare", "--mount", "--uts", "/bin/sleep", "1000"});
  std::string pid = std::to_string(holder.pid());
  ASSERT_TRUE(e2e::eventually(
      [&] { return ns_link("/proc/" + pid + "/ns/mnt") != ns_link("/proc/self/ns/mnt"); }));
  Bundle b;
  for (auto& ns : b.config["linux"]["namespaces"]) {
    if (ns["type"] == "mount") ns["path"] = "/proc/" + pid + "/ns/mnt";
    if (ns["type"] == "uts") ns["path"] = "/proc/" + pid + "/ns/uts";
  }
  b.config["hostname"] = "joined";
  auto r = b.run_sh("readlink /proc/self/ns/mnt; hostname");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ns_link("/proc/" + pid + "/ns/mnt") + "\njoined\n");
  auto name = e2e::Process({"/usr/bin/nsenter", "-t", pid, "-u", "hostname"}).wait();
  EXPECT_EQ(name.out, "joined\n") << "the joined uts namespace was named";
  EXPECT_EQ(mounts_below(pid, b.rootfs()), 0) << "mounts left in the joined namespace";
  EXPECT_EQ(mounts_below("self", b.rootfs()), 0);
  holder.signal(SIGKILL);
}

TEST(SpecRules, SeccompConditionsOnOneArgumentMatchAnyOfThem) {
  Bundle b;
  // kill(pid, 0) and kill(pid, SIGCONT) are refused; other signals pass.
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls",
       {{{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"args",
          {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 1}, {"value", SIGCONT}, {"op", "SCMP_CMP_EQ"}}}}}}}};
  auto r = b.run_sh(
      "kill -0 $$ 2>/dev/null || echo zero-refused; kill -CONT $$ 2>/dev/null || echo "
      "cont-refused; kill -WINCH $$ && echo winch-sent");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "zero-refused\ncont-refused\nwinch-sent\n");
}

TEST(SpecRules, AProfileDenyingCloseRangeAndGetcwdStillStartsTheProgram) {
  for (bool no_new_privs : {false, true}) {
    Bundle b;
    b.config["process"]["noNewPrivileges"] = no_new_privs;
    b.config["process"]["args"] = {"/bin/echo", "started"};
    b.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"close_range", "getcwd"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    auto r = b.run();
    EXPECT_EQ(r.exit_code, 0) << "noNewPrivileges " << no_new_privs << ": " << r.err;
    EXPECT_EQ(r.out, "started\n");
  }
}

TEST(SpecRules, TheZerosEnginesSendForUnsetChangeNothing) {
  if (!e2e::exists("/sys/fs/cgroup/cpu/cpu.shares"))
    GTEST_SKIP() << "needs the v1 cpu controller (this check reads cpu.shares)";
  Bundle b;
  std::string shares_before = e2e::read_file("/sys/fs/cgroup/cpu/cpu.shares");
  // What docker 20.10 sends when the user gave no limits.
  b.config["linux"]["resources"] = {
      {"memory", {{"limit", 0}, {"reservation", 0}, {"swap", 0}, {"kernel", 0}, {"kernelTCP", 0}}},
      {"cpu",
       {{"shares", 0},
        {"quota", 0},
        {"period", 0},
        {"realtimeRuntime", 0},
        {"realtimePeriod", 0},
        {"cpus", ""},
        {"mems", ""}}},
      {"blockIO", {{"weight", 0}}},
      {"pids", {{"limit", 0}}}};
  b.start_sleeping();
  EXPECT_EQ(e2e::read_file(cgroup_file(b, "cpu", "cpu.shares")), shares_before);
  // `docker update --memory 64m` sends every field, most of them 0.
  json update = b.config["linux"]["resources"];
  update["memory"]["limit"] = 64 << 20;
  update["memory"]["swap"] = 128 << 20;
  e2e::write_file(b.dir() + "/update.json", update.dump());
  auto u = b.oci({"update", "--resources", b.dir() + "/update.json", b.id()});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(e2e::read_file(cgroup_file(b, "memory", "memory.limit_in_bytes")),
            std::to_string(64 << 20) + "\n");
  EXPECT_EQ(e2e::read_file(cgroup_file(b, "cpu", "cpu.shares")), shares_before);
  // A real value still reaches the cgroup.
  e2e::write_file(b.dir() + "/shares.json", R"({"cpu": {"shares": 512}})");
  EXPECT_EQ(b.oci({"update", "--resources", b.dir() + "/shares.json", b.id()}).exit_code, 0);
  EXPECT_EQ(e2e::read_file(cgroup_file(b, "cpu", "cpu.shares")), "512\n");
}

TEST(SpecRules, KernelTcpMemoryIsWrittenAndChecked) {
  if (!e2e::exists("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes"))
    GTEST_SKIP() << "this host has no v1 memory.kmem.tcp.limit_in_bytes";
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"kernelTCP", 16 << 20}};
  b.start_sleeping();
  EXPECT_EQ(e2e::read_file(cgroup_file(b, "memory", "memory.kmem.tcp.limit_in_bytes")),
            std::to_string(16 << 20) + "\n");
}

}  // namespace
