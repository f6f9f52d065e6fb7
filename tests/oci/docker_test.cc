// Docker, Docker Swarm and buildah drive berth-oci as they drive runc: the real,
// unmodified dockerd (with its own containerd and containerd-shim-runc-v2) and
// buildah, no registry and no network beyond namespaces the test makes itself.
//
// Each test starts a dockerd of its own (tests/oci/docker_harness.h): its own
// network namespace (the host's gets no docker0 and no iptables rule), its own
// data-root, exec-root, pidfile and API socket in a temporary directory, the
// cgroupfs driver and a unique --cgroup-parent, and berth-oci added as the
// runtime "berth". The image is a busybox rootfs made by `docker import`.
// Cleanup contract: when a test ends, its dockerd, containerd, shims and
// containers are gone, and so are their mounts, the network namespace (with
// every bridge, veth and rule in it), the cgroup parent in every hierarchy and
// the state directories; DockerCleanup checks exactly that. Buildah gets
// private storage and runs RUN steps with --network none.
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/docker_harness.h"

namespace {
namespace fs = std::filesystem;
using dockertest::Dockerd;
using dockertest::kImage;
using dockertest::poll_until;
using dockertest::trim;

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string missing_tool(std::initializer_list<const char*> tools) {
  for (const char* t : tools)
    if (!e2e::exists(t)) return t;
  return "";
}

std::string missing_docker_tool() {
  return missing_tool({dockertest::kDockerd, dockertest::kDocker, "/usr/bin/containerd",
                       "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/iptables", "/usr/bin/unshare",
                       "/usr/bin/nsenter", "/sbin/ip", "/bin/busybox"});
}

std::string both(const e2e::ProcResult& r) {
  return fmt::format("exit {}\nstdout: {}\nstderr: {}", r.exit_code, r.out, r.err);
}

// The host's links and iptables rules, to compare before and after.
std::string host_network_state() {
  std::string s = e2e::Process({"/sbin/ip", "-o", "link", "show"}).wait().out;
  std::stringstream in(s);
  std::string line, names;
  while (std::getline(in, line)) {  // "2: eth0: <...> ... link/ether ..." -> "eth0"
    auto a = line.find(": "), b = line.find(':', a + 2);
    if (a != std::string::npos && b != std::string::npos)
      names += line.substr(a + 2, b - a - 2) + "\n";
  }
  for (const char* table : {"filter", "nat"})
    names += e2e::Process({"/usr/sbin/iptables", "-t", table, "-S"}).wait().out;
  return names;
}

// A cgroup file of a container's process, v1 file name first, else the v2 one.
std::string cgroup_value(pid_t pid, const std::string& controller, const std::string& v1,
                         const std::string& v2) {
  std::string d = dockertest::cgroup_dir(pid, controller);
  if (!d.empty() && e2e::exists(d + "/" + v1)) return trim(e2e::read_file(d + "/" + v1));
  d = dockertest::cgroup_dir(pid, "");
  return d.empty() ? "" : trim(e2e::read_file(d + "/" + v2));
}

class Docker : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto m = missing_docker_tool(); !m.empty()) GTEST_SKIP() << m << " is not installed";
    host_before_ = host_network_state();
    d_ = std::make_unique<Dockerd>(options());
    ASSERT_TRUE(d_->ready()) << "dockerd did not start:\n" << d_->log();
    auto imp = d_->import_image();
    ASSERT_EQ(imp.exit_code, 0) << both(imp);
  }
  void TearDown() override { d_.reset(); }
  virtual dockertest::DockerdOptions options() { return {}; }

  e2e::ProcResult docker(std::vector<std::string> args) { return d_->docker(std::move(args)); }
  // `docker run --runtime berth ARGS...`
  e2e::ProcResult run(const std::vector<std::string>& args) {
    return docker(with({"run", "--runtime", "berth"}, args));
  }
  // `docker run -d` of a named container; returns the pid of its process (0 on failure).
  pid_t start(const std::string& name, const std::vector<std::string>& args) {
    auto r = run(with({"-d", "--name", name}, args));
    EXPECT_EQ(r.exit_code, 0) << both(r) << runtime_log(name);
    if (r.exit_code != 0) return 0;
    return std::atoi(d_->inspect(name, "{{.State.Pid}}").c_str());
  }
  std::string status(const std::string& name) { return d_->inspect(name, "{{.State.Status}}"); }
  std::string runtime_log(const std::string& name) {
    std::string id = d_->inspect(name, "{{.Id}}");
    return id.empty() ? "" : "\nberth-oci log: " + d_->runtime_log(id);
  }

  std::unique_ptr<Dockerd> d_;
  std::string host_before_;
};

TEST_F(Docker, RunsOnlyInItsOwnNetworkNamespace) {
  auto info = docker({"info", "-f", "{{json .Runtimes}}"});
  EXPECT_NE(info.out.find(ocitest::berth_oci_bin()), std::string::npos) << both(info);
  // A published port makes dockerd write NAT rules; they must land in its namespace.
  ASSERT_NE(start("pub", {"-p", "127.0.0.1:18080:80", kImage, "sleep", "1000"}), 0);
  EXPECT_EQ(d_->in_netns({"/sbin/ip", "link", "show", "docker0"}).exit_code, 0)
      << "dockerd made no docker0 in its namespace";
  auto nat = d_->in_netns({"/usr/sbin/iptables", "-t", "nat", "-S"});
  EXPECT_NE(nat.out.find("DOCKER"), std::string::npos) << both(nat);
  EXPECT_NE(d_->netns_id(), fs::read_symlink("/proc/self/ns/net").string());
  EXPECT_EQ(host_network_state(), host_before_) << "the host's links or iptables rules changed";
}

TEST_F(Docker, RunRmGivesOutputAndExitStatus) {
  auto r = run({"--rm", kImage, "sh", "-c", "echo hi; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << both(r);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(trim(docker({"ps", "-aq"}).out), "") << "--rm left the container";
}

// docker run's documented exit codes: 127 when the program cannot be found, 126
// when it cannot be invoked. The client and dockerd derive them from the
// runtime's error text, as runc words it ("executable file not found", "no such
// file or directory", "permission denied"); anything else is 125.
TEST_F(Docker, MissingOrUnrunnableProgramGives127Or126) {
  struct Case {
    std::string name, program;
    int code;
  };
  for (const Case& c : {Case{"absent", "/nonexistent", 127}, Case{"notinpath", "nothere", 127},
                        Case{"directory", "/bin", 126}, Case{"notexec", "/etc/passwd", 126}}) {
    auto r = run({"--name", c.name, kImage, c.program});
    EXPECT_EQ(r.exit_code, c.code) << c.program << ": " << both(r);
    EXPECT_EQ(d_->inspect(c.name, "{{.State.ExitCode}}"), std::to_string(c.code))
        << c.program << ": " << d_->inspect(c.name, "{{.State.Error}}");
  }
}

TEST_F(Docker, DetachedRunExecLogsStopStartRm) {
  pid_t pid = start("boat", {kImage, "sh", "-c", "echo started; exec sleep 1000"});
  ASSERT_NE(pid, 0);
  EXPECT_EQ(d_->inspect("boat", "{{.HostConfig.Runtime}}"), "berth");
  std::string id = d_->inspect("boat", "{{.Id}}");
  auto state = e2e::Process({ocitest::berth_oci_bin(), "--root", d_->runtime_root(), "state", id})
                   .wait(std::chrono::seconds(30));
  EXPECT_EQ(state.exit_code, 0) << "no berth-oci state for the container: " << both(state);
  EXPECT_NE(state.out.find(fmt::format("\"pid\": {}", pid)), std::string::npos) << state.out;

  auto ex = docker({"exec", "boat", "sh", "-c", "echo inside; cat /proc/1/cmdline; exit 7"});
  EXPECT_EQ(ex.exit_code, 7) << both(ex);
  EXPECT_EQ(ex.out, std::string("inside\nsleep\0001000\0", 18));
  EXPECT_TRUE(poll_until([&] {
    return docker({"logs", "boat"}).out == "started\n";
  })) << both(docker({"logs", "boat"}));

  auto stop = docker({"stop", "-t", "1", "boat"});
  EXPECT_EQ(stop.exit_code, 0) << both(stop);
  EXPECT_EQ(status("boat"), "exited");
  EXPECT_EQ(d_->inspect("boat", "{{.State.ExitCode}}"), "137");  // pid 1 ignores TERM
  // Started again: the same id and bundle path, a new process.
  auto again = docker({"start", "boat"});
  EXPECT_EQ(again.exit_code, 0) << both(again);
  EXPECT_EQ(status("boat"), "running");
  EXPECT_TRUE(poll_until([&] {
    return docker({"logs", "boat"}).out == "started\nstarted\n";
  })) << both(docker({"logs", "boat"}));
  EXPECT_EQ(docker({"stop", "-t", "1", "boat"}).exit_code, 0);
  auto rm = docker({"rm", "boat"});
  EXPECT_EQ(rm.exit_code, 0) << both(rm);
  EXPECT_NE(docker({"inspect", "boat"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(d_->runtime_root() + "/" + id)) << "berth-oci state left after rm";
}

TEST_F(Docker, InteractiveRunThroughAPty) {
  // Waits for the terminal size the client sends, then reads a line from it.
  const char* script =
      "until [ -n \"$(stty size 2>/dev/null)\" ] && [ \"$(stty size)\" != '0 0' ]; do sleep 0.1;"
      " done; tty; echo size=$(stty size); read line; echo got-$line; exit 4";
  auto r = dockertest::run_on_pty(
      d_->docker_argv({"run", "-it", "--rm", "--runtime", "berth", kImage, "sh", "-c", script}),
      "hello\n", 37, 91);
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("size=37 91"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got-hello"), std::string::npos) << r.out;
}

TEST_F(Docker, ExecWithATtyIntoARunningContainer) {
  ASSERT_NE(start("boat", {kImage, "sleep", "1000"}), 0);
  const char* script =
      "until [ -n \"$(stty size 2>/dev/null)\" ] && [ \"$(stty size)\" != '0 0' ]; do sleep 0.1;"
      " done; tty; echo size=$(stty size); read line; echo got-$line; exit 5";
  auto r = dockertest::run_on_pty(d_->docker_argv({"exec", "-it", "boat", "sh", "-c", script}),
                                  "there\n", 24, 100);
  EXPECT_EQ(r.exit_code, 5) << r.out << runtime_log("boat");
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("size=24 100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got-there"), std::string::npos) << r.out;
  EXPECT_EQ(status("boat"), "running");
}

TEST_F(Docker, PauseFreezesAndUnpauseThaws) {
  pid_t pid = start("counter", {kImage, "sh", "-c",
                                "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done"});
  ASSERT_NE(pid, 0);
  std::string counter = fmt::format("/proc/{}/root/tmp/n", pid);
  auto count = [&] { return std::atoi(e2e::read_file(counter).c_str()); };
  ASSERT_TRUE(poll_until([&] { return count() > 1; })) << "the counter never ran";
  std::string freezer = dockertest::cgroup_dir(pid, "freezer");
  EXPECT_NE(freezer.find(d_->cgroup_parent() + "/"), std::string::npos) << freezer;

  auto pause = docker({"pause", "counter"});
  ASSERT_EQ(pause.exit_code, 0) << both(pause) << runtime_log("counter");
  EXPECT_EQ(status("counter"), "paused");
  EXPECT_EQ(cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze"),
            freezer.empty() ? "1" : "FROZEN");
  int frozen_at = count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // six loop turns if running
  EXPECT_EQ(count(), frozen_at) << "the container ran while paused";

  auto unpause = docker({"unpause", "counter"});
  ASSERT_EQ(unpause.exit_code, 0) << both(unpause) << runtime_log("counter");
  EXPECT_EQ(status("counter"), "running");
  EXPECT_EQ(cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze"),
            freezer.empty() ? "0" : "THAWED");
  EXPECT_TRUE(poll_until([&] { return count() > frozen_at; })) << "still frozen after unpause";
}

TEST_F(Docker, UpdateChangesTheCgroupLimits) {
  pid_t pid = start("limits", {"--memory", "128m", "--memory-swap", "256m", "--cpus", "1",
                               "--pids-limit", "100", kImage, "sleep", "1000"});
  ASSERT_NE(pid, 0);
  auto memory = [&] { return cgroup_value(pid, "memory", "memory.limit_in_bytes", "memory.max"); };
  auto quota = [&] {  // v2 cpu.max is "QUOTA PERIOD"
    std::string q = cgroup_value(pid, "cpu", "cpu.cfs_quota_us", "cpu.max");
    return q.substr(0, q.find(' '));
  };
  auto pids = [&] { return cgroup_value(pid, "pids", "pids.max", "pids.max"); };
  EXPECT_EQ(memory(), "134217728");
  EXPECT_EQ(quota(), "100000");
  EXPECT_EQ(pids(), "100");

  auto up = docker({"update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5",
                    "--pids-limit", "50", "limits"});
  ASSERT_EQ(up.exit_code, 0) << both(up) << runtime_log("limits");
  EXPECT_EQ(memory(), "67108864");
  EXPECT_EQ(quota(), "50000");
  EXPECT_EQ(pids(), "50");
  EXPECT_EQ(d_->inspect("limits", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}"),
            "67108864 500000000");
  EXPECT_EQ(status("limits"), "running");
}

TEST_F(Docker, MemoryLimitEndsInAnOomKill) {
  // busybox tail keeps a line that never ends: /dev/zero has no newline.
  auto r = run(
      {"--name", "oom", "--memory", "32m", "--memory-swap", "32m", kImage, "tail", "/dev/zero"});
  EXPECT_EQ(r.exit_code, 137) << both(r) << runtime_log("oom");
  EXPECT_EQ(d_->inspect("oom", "{{.State.OOMKilled}} {{.State.ExitCode}}"), "true 137");
}

TEST_F(Docker, PidsLimitStopsForks) {
  const char* script = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 60 & done; echo all-forked";
  auto limited = run({"--rm", "--pids-limit", "5", kImage, "sh", "-c", script});
  EXPECT_NE(limited.exit_code, 0) << both(limited);
  EXPECT_EQ(limited.out, "") << both(limited);
  EXPECT_NE(limited.err.find("can't fork"), std::string::npos) << both(limited);
  // The same with room for every process: the limit, not the script, stopped it.
  auto roomy = run({"--rm", "--pids-limit", "50", kImage, "sh", "-c", script});
  EXPECT_EQ(roomy.exit_code, 0) << both(roomy);
  EXPECT_EQ(roomy.out, "all-forked\n");
}

TEST_F(Docker, TwoContainersReachEachOtherOnTheDefaultBridge) {
  ASSERT_NE(start("web", {kImage, "sh", "-c",
                          "echo hello-bridge > /tmp/index.html; exec httpd -f -p 80 -h /tmp"}),
            0);
  std::string ip = d_->inspect("web", "{{.NetworkSettings.IPAddress}}");
  ASSERT_FALSE(ip.empty()) << "web got no address on the bridge";
  auto get = run({"--rm", kImage, "sh", "-c",
                  fmt::format("for i in $(seq 100); do wget -qO- http://{}/index.html && exit 0;"
                              " sleep 0.1; done; exit 1",
                              ip)});
  EXPECT_EQ(get.exit_code, 0) << both(get);
  EXPECT_EQ(get.out, "hello-bridge\n");
  auto ping = run({"--rm", kImage, "ping", "-c", "1", "-W", "5", ip});
  EXPECT_EQ(ping.exit_code, 0) << both(ping);
}

TEST_F(Docker, PublishedPortIsReachedFromTheDaemonsNamespace) {
  ASSERT_NE(start("pub", {"-p", "127.0.0.1:18080:80", kImage, "sh", "-c",
                          "echo hello-port > /tmp/index.html; exec httpd -f -p 80 -h /tmp"}),
            0);
  EXPECT_EQ(trim(docker({"port", "pub", "80"}).out), "127.0.0.1:18080");
  e2e::ProcResult got;
  EXPECT_TRUE(poll_until([&] {
    got = d_->in_netns({"/bin/busybox", "wget", "-qO-", "http://127.0.0.1:18080/index.html"});
    return got.exit_code == 0;
  })) << both(got);
  EXPECT_EQ(got.out, "hello-port\n");
}

// Swarm: berth is dockerd's default runtime; the tasks must run under it.
class DockerSwarm : public Docker {
 protected:
  dockertest::DockerdOptions options() override { return {.berth_default = true}; }
};

TEST_F(DockerSwarm, ServiceTasksRunUnderBerthOci) {
  // The advertise address lives on a veth pair inside dockerd's namespace.
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"/sbin/ip", "link", "add", "berthsw0", "type", "veth", "peer",
                                 "name", "berthsw1"},
        {"/sbin/ip", "addr", "add", "192.0.2.1/24", "dev", "berthsw0"},
        {"/sbin/ip", "link", "set", "berthsw0", "up"},
        {"/sbin/ip", "link", "set", "berthsw1", "up"}}) {
    auto r = d_->in_netns(cmd);
    ASSERT_EQ(r.exit_code, 0) << both(r);
  }
  auto init =
      docker({"swarm", "init", "--advertise-addr", "192.0.2.1", "--listen-addr", "192.0.2.1:2377"});
  ASSERT_EQ(init.exit_code, 0) << both(init);
  EXPECT_EQ(trim(docker({"info", "-f", "{{.Swarm.LocalNodeState}}"}).out), "active");

  auto create =
      docker({"service", "create", "--detach", "--no-resolve-image", "--replicas", "2",
              "--stop-grace-period", "1s", "--name", "sleepers", kImage, "sleep", "1000"});
  ASSERT_EQ(create.exit_code, 0) << both(create);
  auto running = [&] {
    auto ps = docker({"service", "ps", "sleepers", "--filter", "desired-state=running", "--format",
                      "{{.CurrentState}}"});
    std::stringstream in(ps.out);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind("Running", 0) == 0;
    return n == 2;
  };
  EXPECT_TRUE(poll_until(running, std::chrono::seconds(120)))
      << both(docker({"service", "ps", "--no-trunc", "sleepers"}));

  std::string label = "label=com.docker.swarm.service.name=sleepers";
  std::stringstream ids(docker({"ps", "-q", "--no-trunc", "--filter", label}).out);
  int tasks = 0;
  for (std::string id; ids >> id; ++tasks) {
    EXPECT_EQ(d_->inspect(id, "{{.HostConfig.Runtime}}"), "berth") << id;
    auto state =
        e2e::Process({ocitest::berth_oci_bin(), "--root", d_->runtime_root(), "state", id}).wait();
    EXPECT_EQ(state.exit_code, 0) << "task " << id << " has no berth-oci state: " << both(state);
    EXPECT_NE(state.out.find("\"running\""), std::string::npos) << state.out;
  }
  EXPECT_EQ(tasks, 2);

  auto rm = docker({"service", "rm", "sleepers"});
  EXPECT_EQ(rm.exit_code, 0) << both(rm);
  EXPECT_TRUE(poll_until(
      [&] {
        return trim(docker({"ps", "-aq", "--filter", label}).out).empty();
      },
      std::chrono::seconds(120)))
      << "the service's containers stayed";
  auto leave = docker({"swarm", "leave", "--force"});
  EXPECT_EQ(leave.exit_code, 0) << both(leave);
  EXPECT_EQ(trim(docker({"info", "-f", "{{.Swarm.LocalNodeState}}"}).out), "inactive");
}

// The cleanup contract itself: nothing of a dockerd outlives it.
TEST(DockerCleanup, NothingOfTheDaemonIsLeft) {
  if (auto m = missing_docker_tool(); !m.empty()) GTEST_SKIP() << m << " is not installed";
  std::string dir, netns;
  std::vector<std::string> parents;
  {
    Dockerd d;
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_EQ(d.import_image().exit_code, 0);
    auto r = d.docker(
        {"run", "-d", "--runtime", "berth", "-p", "127.0.0.1:18081:80", kImage, "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << both(r);
    dir = d.dir();
    netns = d.netns_id();
    parents = d.cgroup_parent_dirs();
    bool some_parent = false;
    for (const auto& p : parents) some_parent = some_parent || fs::exists(p);
    EXPECT_TRUE(some_parent) << "the container's cgroups are not below --cgroup-parent";
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto ns = fs::read_symlink(e.path() / "ns/net", ec);
    EXPECT_FALSE(!ec && ns.string() == netns)
        << "process " << name
        << " is still in dockerd's namespace: " << e2e::read_file(e.path() / "cmdline");
    EXPECT_EQ(e2e::read_file(e.path() / "cmdline").find(dir + "/"), std::string::npos)
        << "process " << name << " still runs from " << dir;
  }
  EXPECT_EQ(e2e::read_file("/proc/self/mounts").find(dir), std::string::npos);
  EXPECT_FALSE(fs::exists(dir));
  for (const auto& p : parents) EXPECT_FALSE(fs::exists(p)) << p;
}

TEST(Buildah, BudRunsRunStepsUnderBerthOci) {
  if (auto m = missing_tool({dockertest::kBuildah, "/usr/bin/unshare"}); !m.empty())
    GTEST_SKIP() << m << " is not installed";
  dockertest::Buildah b;
  std::string ctx = b.dir() + "/ctx";
  fs::create_directories(ctx);
  ocitest::rootfs_tar(ctx);
  e2e::write_file(ctx + "/Dockerfile",
                  "FROM scratch\n"
                  "ADD rootfs.tar /\n"
                  "RUN echo built-by-run > /built.txt\n"
                  "RUN mkdir /data && echo second > /data/f && cat /built.txt\n");
  auto bud = b.run(with(with({"bud"}, b.runtime_flags()), {"--cgroup-parent", b.cgroup_parent(),
                                                           "-t", "localhost/built:latest", ctx}));
  ASSERT_EQ(bud.exit_code, 0) << both(bud);
  EXPECT_NE(bud.out.find("built-by-run"), std::string::npos) << "no output of the RUN step\n"
                                                             << both(bud);

  std::string ctr = trim(b.run({"from", "--pull-never", "localhost/built:latest"}).out);
  ASSERT_FALSE(ctr.empty());
  auto cat = b.run(with(with({"run"}, b.runtime_flags()), {ctr, "cat", "/built.txt", "/data/f"}));
  EXPECT_EQ(cat.exit_code, 0) << both(cat);
  EXPECT_EQ(cat.out, "built-by-run\nsecond\n");
  // And in the image's files themselves (vfs: a plain directory).
  std::string root = trim(b.run({"mount", ctr}).out);
  EXPECT_EQ(e2e::read_file(root + "/built.txt"), "built-by-run\n") << root;
  EXPECT_EQ(e2e::read_file(root + "/data/f"), "second\n") << root;
}

}  // namespace
