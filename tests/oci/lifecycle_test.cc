// The runc command line through a container's life: create, state, start,
// ps, exec, pause/resume, update, events, kill, delete, list, spec, features.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"

namespace {
using nlohmann::json;
using ocitest::Bundle;

TEST(Lifecycle, CreateStartStateKillDelete) {
  Bundle b;
  b.config["process"]["args"] = {"sleep", "1000"};
  b.config["annotations"] = {{"org.example.key", "value"}};
  b.save();
  std::string pid_file = b.dir() + "/pid";
  auto c = b.oci({"create", "--bundle", b.dir(), "--pid-file", pid_file, b.id()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto st = json::parse(b.oci({"state", b.id()}).out);
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["id"], b.id());
  EXPECT_EQ(st["bundle"], b.dir());
  EXPECT_EQ(st["pid"].get<int>(), std::atoi(e2e::read_file(pid_file).c_str()));
  EXPECT_EQ(st["annotations"]["org.example.key"], "value");
  EXPECT_EQ(st["owner"], "root");
  EXPECT_TRUE(st.contains("created") && st.contains("ociVersion") && st.contains("rootfs"));
  // Created, not started: the program has not run yet.
  EXPECT_EQ(e2e::read_file(fmt::format("/proc/{}/comm", st["pid"].get<int>())), "berth-oci\n");

  ASSERT_EQ(b.oci({"start", b.id()}).exit_code, 0);
  EXPECT_EQ(b.status(), "running");
  EXPECT_TRUE(e2e::eventually([&] {
    return e2e::read_file(fmt::format("/proc/{}/comm", st["pid"].get<int>())) == "sleep\n";
  }));
  auto again = b.oci({"start", b.id()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("it is running"), std::string::npos) << again.err;

  auto del = b.oci({"delete", b.id()});
  EXPECT_NE(del.exit_code, 0) << "deleting a running container needs --force";
  EXPECT_NE(del.err.find("--force"), std::string::npos);

  ASSERT_EQ(b.oci({"kill", b.id(), "KILL"}).exit_code, 0);
  EXPECT_TRUE(e2e::eventually([&] { return b.status() == "stopped"; }));
  ASSERT_EQ(b.oci({"delete", b.id()}).exit_code, 0);
  auto gone = b.oci({"state", b.id()});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("does not exist"), std::string::npos);
  EXPECT_FALSE(ocitest::cgroup_dir_exists(b.id()));
}

TEST(Lifecycle, KillSignalsByNameAndNumber) {
  Bundle b;
  b.config["process"]["args"] = {
      "sh", "-c", "trap 'echo got USR1 > /tmp/sig' USR1; while true; do sleep 0.05; done"};
  b.save();
  ASSERT_EQ(b.oci({"run", "--detach", "--bundle", b.dir(), b.id()}).exit_code, 0);
  ASSERT_EQ(b.oci({"kill", b.id(), "SIGUSR1"}).exit_code, 0);
  EXPECT_TRUE(
      e2e::eventually([&] { return e2e::read_file(b.rootfs() + "/tmp/sig") == "got USR1\n"; }));
  auto bad = b.oci({"kill", b.id(), "SIGNOPE"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown signal 'SIGNOPE'"), std::string::npos);
  ASSERT_EQ(b.oci({"kill", "--all", b.id(), "9"}).exit_code, 0);
  EXPECT_TRUE(e2e::eventually([&] { return b.status() == "stopped"; }));
}

TEST(Lifecycle, PauseResumePsListUpdateEvents) {
  Bundle b;
  int pid = b.start_sleeping();
  auto ps = b.oci({"ps", "--format", "json", b.id()});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_EQ(json::parse(ps.out), json::array({pid}));

  ASSERT_EQ(b.oci({"pause", b.id()}).exit_code, 0);
  EXPECT_EQ(b.status(), "paused");
  EXPECT_EQ(e2e::read_file("/sys/fs/cgroup/freezer/berth-oci-test/" + b.id() + "/freezer.state"),
            "FROZEN\n");
  auto list = b.oci({"list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(json::parse(list.out)[0]["status"], "paused");
  ASSERT_EQ(b.oci({"resume", b.id()}).exit_code, 0);
  EXPECT_EQ(b.status(), "running");

  e2e::write_file(b.dir() + "/res.json",
                  R"({"pids": {"limit": 77}, "memory": {"limit": 33554432}})");
  auto up = b.oci({"update", "--resources", b.dir() + "/res.json", b.id()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(e2e::read_file("/sys/fs/cgroup/pids/berth-oci-test/" + b.id() + "/pids.max"), "77\n");
  ASSERT_EQ(b.oci({"update", "--pids-limit", "88", b.id()}).exit_code, 0);
  EXPECT_EQ(e2e::read_file("/sys/fs/cgroup/pids/berth-oci-test/" + b.id() + "/pids.max"), "88\n");

  auto ev = b.oci({"events", "--stats", b.id()});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  auto e = json::parse(ev.out);
  EXPECT_EQ(e["type"], "stats");
  EXPECT_EQ(e["data"]["pids"]["current"], 1);
  EXPECT_EQ(e["data"]["memory"]["usage"]["limit"], 33554432);
  EXPECT_GT(e["data"]["memory"]["usage"]["usage"].get<uint64_t>(), 0u);
  EXPECT_TRUE(e["data"]["cpu"]["usage"].contains("total"));
}

TEST(Lifecycle, ExecJoinsEverythingTheContainerHas) {
  Bundle b;
  b.config["process"]["noNewPrivileges"] = true;
  b.config["process"]["capabilities"]["bounding"] = {"CAP_KILL", "CAP_CHOWN"};
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"sethostname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}}}}};
  int pid = b.start_sleeping();
  auto r = b.oci(
      {"exec", "--env", "X=from-exec", b.id(), "sh", "-c",
       "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; cat "
       "/proc/self/cgroup; "
       "grep -E 'CapBnd|NoNewPrivs|Seccomp:' /proc/self/status; echo $X; hostname y 2>&1; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto init = b.oci(
      {"exec", b.id(), "sh", "-c",
       "for n in pid net ipc uts mnt cgroup; do readlink /proc/1/ns/$n; done; cat /proc/1/cgroup"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(r.out.substr(0, init.out.size()), init.out)
      << "exec must share the init's namespaces and cgroup";
  EXPECT_NE(r.out.find(fmt::format("CapBnd:\t{}", ocitest::cap_mask({5, 0}))), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from-exec"), std::string::npos);
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos)
      << "seccomp applies to exec too: " << r.out;
  (void)pid;
}

TEST(Lifecycle, ExecWithProcessFileDetachedAndPidFile) {
  Bundle b;
  b.start_sleeping();
  json process = {{"args", {"sh", "-c", "echo $$ > /tmp/exec-pid; sleep 1000"}},
                  {"cwd", "/tmp"},
                  {"env", {"PATH=/bin"}},
                  {"user", {{"uid", 0}, {"gid", 0}}}};
  e2e::write_file(b.dir() + "/process.json", process.dump());
  std::string pid_file = b.dir() + "/exec.pid";
  auto r = b.oci(
      {"exec", "--process", b.dir() + "/process.json", "--detach", "--pid-file", pid_file, b.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int host_pid = std::atoi(e2e::read_file(pid_file).c_str());
  EXPECT_GT(host_pid, 0);
  EXPECT_TRUE(e2e::eventually([&] { return e2e::exists(b.rootfs() + "/tmp/exec-pid"); }));
  auto ps = json::parse(b.oci({"ps", "--format", "json", b.id()}).out);
  EXPECT_NE(std::find(ps.begin(), ps.end(), host_pid), ps.end()) << ps.dump();
}

TEST(Lifecycle, ExecOfAMissingProgramFailsClearly) {
  Bundle b;
  b.start_sleeping();
  auto r = b.oci({"exec", b.id(), "no-such-program"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(
      r.err.find("process.args[0]: exec: \"no-such-program\": executable file not found in $PATH"),
      std::string::npos)
      << r.err;
}

TEST(Lifecycle, RunForwardsSignalsAndReportsThem) {
  Bundle b;
  b.config["process"]["args"] = {"sh", "-c",
                                 "trap 'exit 42' TERM; while true; do sleep 0.05; done"};
  b.save();
  e2e::Process run(
      {ocitest::berth_oci_bin(), "--root", b.state_root(), "run", "--bundle", b.dir(), b.id()});
  ASSERT_TRUE(e2e::eventually([&] { return b.status() == "running"; }));
  // The shell sets its trap after it starts; give it a moment by polling its state.
  ASSERT_TRUE(e2e::eventually([&] {
    auto st = json::parse(b.oci({"state", b.id()}).out);
    std::string caught = ocitest::status_field(
        e2e::read_file(fmt::format("/proc/{}/status", st["pid"].get<int>())), "SigCgt");
    return !caught.empty() && (std::stoull(caught, nullptr, 16) & (1ULL << (SIGTERM - 1)));
  }));
  run.signal(SIGTERM);
  auto r = run.wait();
  EXPECT_EQ(r.exit_code, 42) << r.err;
  EXPECT_EQ(b.status(), "") << "run deletes the container when it ends";
}

TEST(Lifecycle, SpecAndFeatures) {
  e2e::TempDir d;
  auto r = e2e::Process({ocitest::berth_oci_bin(), "spec", "--bundle", d.path()}).wait();
  ASSERT_EQ(r.exit_code, 0);
  auto again = e2e::Process({ocitest::berth_oci_bin(), "spec", "--bundle", d.path()}).wait();
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  e2e::TempDir rl;
  auto rootless =
      e2e::Process({ocitest::berth_oci_bin(), "spec", "--rootless", "--bundle", rl.path()}).wait();
  ASSERT_EQ(rootless.exit_code, 0);
  auto spec = json::parse(e2e::read_file(rl / "config.json"));
  EXPECT_EQ(spec["linux"]["uidMappings"][0]["hostID"], 0);
  auto f = e2e::Process({ocitest::berth_oci_bin(), "features"}).wait();
  ASSERT_EQ(f.exit_code, 0);
  auto feat = json::parse(f.out);
  EXPECT_EQ(feat["linux"]["cgroup"]["v1"], true);
  EXPECT_EQ(feat["linux"]["cgroup"]["v2"], true);
  EXPECT_NE(std::find(feat["linux"]["capabilities"].begin(), feat["linux"]["capabilities"].end(),
                      "CAP_SYS_ADMIN"),
            feat["linux"]["capabilities"].end());
}

TEST(Lifecycle, SystemdCgroupIsAClearError) {
  auto r = e2e::Process({ocitest::berth_oci_bin(), "--systemd-cgroup", "list"}).wait();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("systemd cgroup driver is not supported"), std::string::npos) << r.err;
}

TEST(Lifecycle, LogFileGetsJsonErrors) {
  e2e::TempDir d;
  auto r = e2e::Process({ocitest::berth_oci_bin(), "--root", d / "state", "--log", d / "log.json",
                         "--log-format", "json", "state", "nope"})
               .wait();
  EXPECT_NE(r.exit_code, 0);
  auto line = json::parse(e2e::read_file(d / "log.json"));
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["msg"], "container nope does not exist");
}

}  // namespace

TEST(Lifecycle, StartOfAProgramThatExitsAtOnceSucceeds) {
  // The program may be gone before `start` looks: that is a start, not a failure.
  for (int i = 0; i < 20; ++i) {
    Bundle b;
    b.config["process"]["args"] = {"true"};
    b.save();
    ASSERT_EQ(b.oci({"create", "--bundle", b.dir(), b.id()}).exit_code, 0);
    auto s = b.oci({"start", b.id()});
    EXPECT_EQ(s.exit_code, 0) << s.err;
    b.oci({"delete", "--force", b.id()});
  }
}

TEST(Lifecycle, StartSaysWhyTheProgramCouldNotBeExecuted) {
  Bundle b;
  e2e::write_file(b.rootfs() + "/bin/not-a-program", "just text\n", 0755);
  b.config["process"]["args"] = {"/bin/not-a-program"};
  b.save();
  ASSERT_EQ(b.oci({"create", "--bundle", b.dir(), b.id()}).exit_code, 0);
  auto s = b.oci({"start", b.id()});
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.err.find("could not start its program"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("exec format error"), std::string::npos) << s.err;
  b.oci({"delete", "--force", b.id()});
}
