// berth's container commands on the real binary and kernel: run (attached,
// --rm, detached), ps, logs, stop, rm, limits and volumes; failures that
// leave nothing; concurrent runs; a monitor killed with SIGKILL.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;

using bt::Engine;

bool mounted_below(const std::string& dir) {
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line))
    if (line.find(dir) != std::string::npos) return true;
  return false;
}

TEST(BerthContainers, RunAttachedReturnsTheExitStatusAndRmCleansUp) {
  Engine e;
  auto r = e.berth({"run", "--rm", "-e", "WHO=berth", "localhost/box", "sh", "-c",
                    "echo hi $WHO; echo oops >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "hi berth\n");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(e.berth({"ps", "-a", "-q"}).out, "");
  // The files of a --rm container go just after its exit status is out.
  EXPECT_TRUE(e2e::eventually([&] { return fs::is_empty(e.store("containers")); }));
  EXPECT_FALSE(mounted_below(e.store("")));
}

TEST(BerthContainers, DetachedPsLogsStopRm) {
  Engine e;
  auto r = e.berth({"run", "-d", "--name", "web", "--hostname", "boat", "localhost/box", "sh", "-c",
                    "hostname; cat /etc/hostname; echo err >&2; exec sleep 1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = r.out.substr(0, 64);
  EXPECT_NE(e.berth({"ps"}).out.find("web"), std::string::npos);
  EXPECT_TRUE(e2e::eventually([&] { return e.berth({"logs", "web"}).out == "boat\nboat\n"; }));
  EXPECT_EQ(e.berth({"logs", id.substr(0, 6)}).err, "err\n")
      << "logs keep stderr apart; id prefixes work";
  auto busy = e.berth({"rm", "web"});
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_NE(busy.err.find("is running"), std::string::npos);
  ASSERT_EQ(e.berth({"stop", "-t", "1", "web"}).exit_code, 0);
  EXPECT_NE(e.berth({"ps", "-a"}).out.find("Exited (137)"), std::string::npos)
      << "sleep as pid 1 ignores SIGTERM";
  EXPECT_EQ(e.berth({"ps", "-q"}).out, "");
  ASSERT_EQ(e.berth({"rm", "web"}).exit_code, 0);
  EXPECT_FALSE(e2e::exists(e.store("containers/" + id)));
  EXPECT_FALSE(mounted_below(e.store("")));
}

TEST(BerthContainers, ExecKillWait) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "svc", "localhost/box", "sh", "-c",
                     "trap 'exit 3' TERM; while true; do sleep 0.05; done"})
                .exit_code,
            0);
  auto ex = e.berth({"exec", "-e", "X=1", "svc", "sh", "-c",
                     "echo $X; cat /proc/1/cmdline | grep -c trap; exit 5"});
  EXPECT_EQ(ex.exit_code, 5) << ex.err;
  EXPECT_EQ(ex.out, "1\n1\n");
  ASSERT_TRUE(e2e::eventually([&] {
    return e.berth({"exec", "svc", "sh", "-c", "grep -q 'SigCgt:.*4...$' /proc/1/status"})
               .exit_code == 0;
  }));
  ASSERT_EQ(e.berth({"kill", "-s", "TERM", "svc"}).exit_code, 0);
  auto w = e.berth({"wait", "svc"});
  EXPECT_EQ(w.out, "3\n") << w.err;
  auto gone = e.berth({"exec", "svc", "true"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("container svc is not running (it is exited)"), std::string::npos)
      << gone.err;
}

TEST(BerthContainers, OverlayRootLimitsAndVolumes) {
  Engine e;
  e2e::TempDir vol;
  e2e::write_file(vol / "in", "from host\n");
  auto r =
      e.berth({"run", "--rm", "--memory", "64m", "--pids-limit", "50", "-v",
               vol.path() + ":/data:ro", "localhost/box", "sh", "-c",
               "touch /newfile && echo wrote; cat /data/in; touch /data/x 2>/dev/null || echo ro; "
               "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote\nfrom host\nro\n67108864\n50\n");
  auto ro =
      e.berth({"run", "--rm", "--read-only", "localhost/box", "sh", "-c", "touch /x 2>&1 || true"});
  EXPECT_NE(ro.out.find("Read-only file system"), std::string::npos) << ro.out;
  auto cpus = e.berth(
      {"run", "--rm", "--cpus", "0.5", "localhost/box", "sh", "-c",
       "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max"});
  EXPECT_EQ(cpus.out.substr(0, 5), "50000") << cpus.err;  // v1 quota, or v2 "50000 100000"
  // --network host: the host's own network namespace (here the engine's); the
  // default: one of its own.
  struct stat engine_ns {};
  ASSERT_EQ(::stat(e.netns_file().c_str(), &engine_ns), 0);
  std::string host_net = fmt::format("net:[{}]", engine_ns.st_ino);
  auto shared = e.berth(
      {"run", "--rm", "--network", "host", "localhost/box", "readlink", "/proc/self/ns/net"});
  EXPECT_EQ(shared.out, host_net + "\n") << shared.err;
  auto own = e.berth({"run", "--rm", "localhost/box", "readlink", "/proc/self/ns/net"});
  EXPECT_NE(own.out, host_net + "\n") << own.err;
  EXPECT_EQ(own.out.rfind("net:[", 0), 0u) << own.out;
  // The image's layer is untouched by what containers wrote.
  auto layers = fs::directory_iterator(e.store("layers"));
  EXPECT_FALSE(e2e::exists(layers->path().string() + "/newfile"));
}

TEST(BerthContainers, AReadOnlyVolumeIsReadOnlyAllTheWayDown) {
  // -v SRC:DST:ro with a writable mount below SRC: that mount is read-only
  // inside too (recursive read-only, as docker 25), and the host's stays writable.
  Engine e;
  e2e::TempDir vol;
  ASSERT_EQ(::mkdir((vol / "inner").c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", (vol / "inner").c_str(), "tmpfs", 0, "size=1m"), 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{vol / "inner"};
  auto r = e.berth({"run", "--rm", "-v", vol.path() + ":/data:ro", "localhost/box", "sh", "-c",
                    "touch /data/x 2>/dev/null || echo top-ro; "
                    "touch /data/inner/x 2>/dev/null || echo inner-ro"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "top-ro\ninner-ro\n");
  EXPECT_FALSE(e2e::exists(vol / "inner/x"));
  e2e::write_file(vol / "inner/host-writes", "still writable here");
  EXPECT_TRUE(e2e::exists(vol / "inner/host-writes"));
}

TEST(BerthContainers, ProcAndDevAreMountedAsStrictlyAsDockers) {
  // (The powercap mask is checked on the spec, in berth_test: this host has none.)
  Engine e;
  auto r = e.berth(
      {"run", "--rm", "localhost/box", "sh", "-c", "grep -E ' /proc | /dev ' /proc/self/mounts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    if (line.find(" /proc ") == std::string::npos && line.find(" /dev ") == std::string::npos)
      continue;
    for (const char* opt : {"nosuid", "noexec"})
      EXPECT_NE(line.find(opt), std::string::npos) << line;
    if (line.find(" /proc ") != std::string::npos) {
      EXPECT_NE(line.find("nodev"), std::string::npos) << line;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 2) << r.out;
}

TEST(BerthContainers, BadInputFailsClearlyAndLeavesNothing) {
  Engine e;
  e2e::write_file(e.path("nul.env"), std::string("A=one\0two\n", 10));
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {{"run", "--pull", "never", "localhost/nope", "true"}, "no such image: localhost/nope"},
           {{"run", "-v", "/does/not/exist:/x", "localhost/box", "true"},
            "/does/not/exist does not exist"},
           {{"run", "localhost/box"}, "the image has no command"},
           {{"run", "--network", "nosuch", "localhost/box", "true"},
            "network 'nosuch' does not exist"},
           {{"run", "localhost/box", "/bin/nothere"}, "/bin/nothere"},
           {{"run", "-u", "nobody", "localhost/box", "true"}, "--user 'nobody'"},
           {{"run", "--env-file", "/dev/zero", "localhost/box", "true"},
            "--env-file: /dev/zero is larger than"},
           {{"run", "--env-file", e.path("nul.env"), "localhost/box", "true"},
            "contains a NUL byte"},
           {{"run", "--name", "bad\nname", "localhost/box", "true"}, "--name \"bad\\nname\""},
           {{"run", "--name", "-x", "localhost/box", "true"}, "--name \"-x\": not a valid"},
           {{"run", "--name", "../up", "localhost/box", "true"}, "a name is letters"},
           {{"run", "--memory", "1.5.5m", "localhost/box", "true"}, "--memory '1.5.5m'"},
           {{"run", "--cpus", "1000", "localhost/box", "true"}, "--cpus 1000: must be from 0.01"},
           {{"run", "--cpus", "0", "localhost/box", "true"}, "--cpus 0: must be from 0.01"},
       }) {
    auto r = e.berth(c.args);
    EXPECT_NE(r.exit_code, 0) << c.error;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(e.berth({"ps", "-a", "-q"}).out, "") << c.error;
    EXPECT_FALSE(mounted_below(e.store(""))) << c.error;
  }
  EXPECT_EQ(e.berth({"run", "-d", "--name", "one", "localhost/box", "sleep", "100"}).exit_code, 0);
  auto dup = e.berth({"run", "-d", "--name", "one", "localhost/box", "sleep", "100"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.err.find("the name 'one' is already in use"), std::string::npos);
  // A process limit by default (podman's 2048), and -1 for none.
  // (The pids controller is v1's here, v2's on a pure v2 host.)
  const char* read_limit =
      "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max";
  auto pids = e.berth({"run", "--rm", "localhost/box", "sh", "-c", read_limit});
  EXPECT_EQ(pids.out, "2048\n") << pids.err;
  auto none =
      e.berth({"run", "--rm", "--pids-limit", "-1", "localhost/box", "sh", "-c", read_limit});
  EXPECT_EQ(none.out, "max\n") << none.err;
}

// One endless line costs the log no more than docker's: pieces of 16 KiB,
// which `logs` joins back; bytes that are not UTF-8 do not stop the monitor.
TEST(BerthContainers, ALongLineIsLoggedInPiecesAndBinaryOutputIsKept) {
  Engine e;
  auto r = e.berth({"run", "--name", "long", "localhost/box", "sh", "-c",
                    "head -c 100000 /dev/zero | tr '\\0' x; echo; printf 'a\\377b\\n'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string line(100000, 'x');
  EXPECT_TRUE(r.out == line + "\na\377b\n") << "attached output is relayed byte for byte";
  auto logs = e.berth({"logs", "long"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_TRUE(logs.out.rfind(line + "\n", 0) == 0) << logs.out.size() << " bytes";
  EXPECT_NE(logs.out.find("a\xEF\xBF\xBD"
                          "b\n"),
            std::string::npos)
      << "U+FFFD for the bad byte";
  std::string log_path;
  for (const auto& d : fs::directory_iterator(e.store("containers")))
    if (e2e::exists(d.path() / "log")) log_path = d.path() / "log";
  std::ifstream log(log_path);
  size_t longest = 0, pieces = 0;
  for (std::string l; std::getline(log, l); ++pieces) longest = std::max(longest, l.size());
  EXPECT_LT(longest, 17u * 1024) << "each piece is at most 16 KiB of output";
  EXPECT_GE(pieces, 7u);
}

TEST(BerthContainers, ConcurrentRunsGetDistinctIds) {
  Engine e;
  std::vector<std::unique_ptr<e2e::Process>> runs;
  for (int i = 0; i < 20; ++i)
    runs.push_back(
        std::make_unique<e2e::Process>(e.command({"run", "-d", "localhost/box", "sleep", "100"})));
  std::set<std::string> ids;
  for (auto& p : runs) {
    auto r = p->wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ids.insert(r.out);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(Engine::split(e.berth({"ps", "-q"}).out).size(), 20u);
}

TEST(BerthContainers, AContainerWhoseMonitorDiedReadsAsExitedAndCanBeRemoved) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "orphan", "localhost/box", "sleep", "1000"}).exit_code,
            0);
  std::string dir = fs::directory_iterator(e.store("containers"))->path();
  auto record = nlohmann::json::parse(e2e::read_file(dir + "/container.json"));
  // As after a reboot: the monitor and the container are gone at once.
  // kill(0) or kill(-1) would hit the test itself: a record must name real processes.
  ASSERT_GT(record["MonitorPid"].get<int>(), 0);
  ASSERT_GT(record["Pid"].get<int>(), 0);
  ::kill(record["MonitorPid"].get<int>(), SIGKILL);
  ::kill(record["Pid"].get<int>(), SIGKILL);
  EXPECT_TRUE(e2e::eventually([&] {
    return e.berth({"ps", "-a"}).out.find("Exited (-1)") != std::string::npos;
  }));
  EXPECT_EQ(e.berth({"ps", "-q"}).out, "");
  // It can be started again: a new monitor, the same container.
  auto start = e.berth({"start", "orphan"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(Engine::split(e.berth({"ps", "-q"}).out).size(), 1u);
  ASSERT_EQ(e.berth({"stop", "-t", "0", "orphan"}).exit_code, 0);
  auto rm = e.berth({"rm", "orphan"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(e2e::exists(dir));
  EXPECT_FALSE(mounted_below(e.store("")));
}

// A damaged record whose Pid is 0: `berth stop` must not signal pid 0 (its
// own process group) but say what is wrong. It runs in a session of its
// own, so a wrong kill(0) would end only berth itself, which the test would
// see as death by SIGTERM.
TEST(BerthContainers, ARecordedPidOfZeroIsNeverSignalled) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "damaged", "localhost/box", "sleep", "1000"}).exit_code,
            0);
  std::string dir = fs::directory_iterator(e.store("containers"))->path();
  auto record = nlohmann::json::parse(e2e::read_file(dir + "/container.json"));
  int real_pid = record["Pid"];
  ASSERT_GT(real_pid, 0);
  record["Pid"] = 0;
  record["MonitorPid"] = -1;
  e2e::write_file(dir + "/container.json", record.dump());
  // stop signals the container through the runtime, which knows its init by
  // pid and start time: the damaged pids are never used, so a kill(0) that
  // would end this process group (setsid --wait's) cannot happen.
  std::vector<std::string> argv = {"/usr/bin/setsid", "--wait"};
  for (auto& a : e.command({"stop", "-t", "1", "damaged"})) argv.push_back(a);
  auto stop = e2e::Process(argv).wait(std::chrono::seconds(60));
  EXPECT_EQ(stop.exit_code, 0) << "berth stop died or failed: " << stop.err;
  EXPECT_TRUE(e2e::eventually([&] { return ::kill(real_pid, 0) != 0; }))
      << "the real container was not stopped";
  EXPECT_NE(e.berth({"ps", "-a"}).out.find("Exited"), std::string::npos);
}

}  // namespace

namespace {

// An unusable --root (a file where the directory should be): every command
// fails with one line and a clear exit code, never an abort.
TEST(BerthContainers, AnUnusableRootFailsEveryCommandWithOneLine) {
  e2e::TempDir dir;
  e2e::write_file(dir / "root", "not a directory\n");
  std::vector<std::vector<std::string>> commands = {{"images"},
                                                    {"ps", "-a"},
                                                    {"run", "--rm", "box", "true"},
                                                    {"create", "box"},
                                                    {"network", "ls"},
                                                    {"network", "create", "n1"},
                                                    {"network", "rm", "n1"},
                                                    {"rm", "-f", "x"},
                                                    {"logs", "x"},
                                                    {"inspect", "x"},
                                                    {"start", "x"},
                                                    {"stop", "x"},
                                                    {"exec", "x", "true"},
                                                    {"wait", "x"},
                                                    {"kill", "x"},
                                                    {"port", "x"},
                                                    {"rmi", "box"},
                                                    {"image", "prune", "-a"},
                                                    {"import", dir / "root", "box"},
                                                    {"load", "-i", dir / "root"},
                                                    {"container", "prune"},
                                                    {"pull", "127.0.0.1:1/none"}};
  for (const auto& [root, args] : [&] {
         std::vector<std::pair<std::string, std::vector<std::string>>> all;
         for (const auto& c : commands) {
           all.emplace_back(dir / "root", c);      // a file
           all.emplace_back(dir / "root/sub", c);  // below a file
         }
         return all;
       }()) {
    std::vector<std::string> argv = {BERTH_BIN, "--root", root, "--run-root", dir / "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = e2e::Process(argv).wait(std::chrono::seconds(60));
    std::string what = fmt::format("berth --root {} {}", root, fmt::join(args, " "));
    EXPECT_GT(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_NE(r.exit_code, 134) << what << " aborted: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
  }
}

}  // namespace

namespace {

// A container that outgrows --memory is killed by the kernel: 137 as in
// docker, a line saying so, and OOMKilled in the record; a container that
// fits says nothing of the kind.
TEST(BerthContainers, AnOomKillIsReportedAndRecorded) {
  Engine e;
  // busybox dd allocates its block (64 MiB) and fills it: past a 16 MiB limit.
  auto oom = e.berth({"run", "--name", "big", "--memory", "16m", "localhost/box", "busybox", "dd",
                      "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"});
  EXPECT_EQ(oom.exit_code, 137) << oom.err;
  EXPECT_NE(oom.err.find("ran out of memory"), std::string::npos) << oom.err;
  auto big = nlohmann::json::parse(e.berth({"inspect", "big"}).out, nullptr, false);
  EXPECT_EQ(big[0]["State"].value("OOMKilled", false), true) << big.dump();
  auto fits = e.berth({"run", "--name", "small", "--memory", "16m", "localhost/box", "busybox",
                       "dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1"});
  EXPECT_EQ(fits.exit_code, 0) << fits.err;
  EXPECT_EQ(fits.err.find("ran out of memory"), std::string::npos) << fits.err;
  auto small = nlohmann::json::parse(e.berth({"inspect", "small"}).out, nullptr, false);
  EXPECT_EQ(small[0]["State"].value("OOMKilled", true), false) << small.dump();
}

}  // namespace
