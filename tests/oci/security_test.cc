// What a container must not get: host fds or cwd (CVE-2024-21626), a handle
// on the host's runtime binary (CVE-2019-5736), paths outside its root; and a
// hostile or broken config.json must fail with the field named and leave
// nothing behind.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"

namespace {
using nlohmann::json;
using ocitest::Bundle;

e2e::ProcResult run_with_open_fds(Bundle& b, const std::string& extra_dir,
                                  const std::string& command = "run") {
  b.save();
  return e2e::Process({"/bin/sh", "-c",
                       fmt::format("exec 5<{} 6<{}; cd {}; exec {} --root {} {} --bundle {} {}",
                                   extra_dir, extra_dir, extra_dir, ocitest::berth_oci_bin(),
                                   b.state_root(), command, b.dir(), b.id())})
      .wait();
}

// The fds of a process, as the host sees them.
std::vector<std::string> fds_of(int pid) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid)))
    out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Security, NoHostFdOrCwdLeaksIntoTheContainerOrAnExecdProcess) {
  Bundle b;
  e2e::TempDir host;
  b.config["process"]["args"] = {"sleep", "1000"};
  auto r = run_with_open_fds(b, host.path(), "create");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(b.oci({"start", b.id()}).exit_code, 0);
  int pid = nlohmann::json::parse(b.oci({"state", b.id()}).out)["pid"];
  EXPECT_EQ(fds_of(pid), (std::vector<std::string>{"0", "1", "2"}));
  char cwd[4096] = {};
  ASSERT_GT(readlink(fmt::format("/proc/{}/cwd", pid).c_str(), cwd, sizeof cwd - 1), 0);
  // Seen from the host, a cwd inside the container's (detached) root reads "/";
  // the create ran in `host`, and that must not follow the program in.
  EXPECT_EQ(std::string(cwd), "/") << "the program's cwd is the container's /";
  // An exec'd process neither: nor the cgroup files the runtime opens for a
  // new process to enter its cgroup with (oci/cgroup.h), and it ends up in
  // every hierarchy the init is in.
  std::string pid_file = host.path() + "/exec.pid";
  auto ex = e2e::Process({"/bin/sh", "-c",
                          fmt::format("exec 5<{} 6<{}; exec {} --root {} exec -d --pid-file {} {} "
                                      "sleep 1000",
                                      host.path(), host.path(), ocitest::berth_oci_bin(),
                                      b.state_root(), pid_file, b.id())})
                .wait();
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  int execd = std::stoi(e2e::read_file(pid_file));
  EXPECT_EQ(fds_of(execd), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(e2e::read_file(fmt::format("/proc/{}/cgroup", execd)),
            e2e::read_file(fmt::format("/proc/{}/cgroup", pid)));
  EXPECT_NE(e2e::read_file(fmt::format("/proc/{}/cgroup", pid)),
            e2e::read_file("/proc/self/cgroup"));
}

TEST(Security, CwdThroughALeakedFdIsRefused) {
  for (const char* cwd : {"/proc/self/fd/5", "/proc/self/fd/6"}) {
    Bundle b;
    e2e::TempDir host;
    b.config["process"]["cwd"] = cwd;
    b.config["process"]["args"] = {"sh", "-c", "pwd; ls"};
    auto r = run_with_open_fds(b, host.path());
    EXPECT_NE(r.exit_code, 0) << cwd << ": " << r.out;
    EXPECT_NE(r.err.find("process.cwd"), std::string::npos) << r.err;
  }
}

std::string file_hash(const std::string& path) {
  return e2e::read_file(path);
}

TEST(Security, TheRuntimeBinaryCannotBeReachedThroughProcSelfExe) {
  std::string before = file_hash(ocitest::berth_oci_bin());
  {
    Bundle b;
    b.config["process"]["args"] = {"/proc/self/exe"};
    auto r = b.run();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("would run the host's berth-oci binary"), std::string::npos) << r.err;
  }
  {
    Bundle b;  // the same through a script's interpreter line
    e2e::write_file(b.rootfs() + "/bin/evil", "#!/proc/self/exe\n", 0755);
    b.config["process"]["args"] = {"/bin/evil"};
    auto r = b.run();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("would run the host's berth-oci binary"), std::string::npos) << r.err;
  }
  {
    Bundle b;  // and through exec into a running container
    b.start_sleeping();
    auto r = b.oci({"exec", b.id(), "/proc/self/exe"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("would run the host's berth-oci binary"), std::string::npos) << r.err;
    // While exec sets up, the runtime is not dumpable: the container cannot open its exe.
    auto peek = b.oci({"exec", b.id(), "sh", "-c", "ls -l /proc/*/exe 2>&1 | grep -c berth-oci"});
    EXPECT_EQ(peek.out, "0\n") << peek.out;
  }
  EXPECT_EQ(file_hash(ocitest::berth_oci_bin()), before);
}

TEST(Security, MountTargetsCannotEscapeTheRootThroughSymlinks) {
  Bundle b;
  e2e::TempDir outside;
  std::filesystem::create_symlink("../../../../../../../../" + outside.path(),
                                  b.rootfs() + "/escape");
  b.config["mounts"].push_back({{"destination", "/escape/inner"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"size=1m"}}});
  auto r = b.run_sh("true");
  // The link's target does not exist inside the root: the mount fails, naming it.
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("mounts[7] /escape/inner"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(outside.path()))
      << "a mount point was made outside the container's root";
}

struct BadConfig {
  const char* what;
  std::function<void(json&)> edit;
  const char* error;
};

TEST(Security, BrokenConfigsNameTheFieldAndLeaveNothing) {
  std::vector<BadConfig> cases = {
      {"args type", [](json& c) { c["process"]["args"] = "sh"; },
       "process.args: must be an array of strings"},
      {"namespace",
       [](json& c) {
         c["linux"]["namespaces"].push_back({{"type", "bogus"}});
       },
       "linux.namespaces[6].type: unknown namespace type 'bogus'"},
      {"capability", [](json& c) { c["process"]["capabilities"]["bounding"] = {"CAP_FLY"}; },
       "process.capabilities.bounding: unknown capability 'CAP_FLY'"},
      {"rlimit",
       [](json& c) {
         c["process"]["rlimits"] = {{{"type", "RLIMIT_NOPE"}, {"soft", 1}, {"hard", 1}}};
       },
       "process.rlimits[0].type: unknown rlimit 'RLIMIT_NOPE'"},
      {"mount option", [](json& c) { c["mounts"][0]["options"] = {"idmap"}; },
       "mounts[0].options: 'idmap'"},
      {"seccomp action",
       [](json& c) {
         c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_EXPLODE"}};
       },
       "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_EXPLODE'"},
      {"seccomp operator",
       [](json& c) {
         c["linux"]["seccomp"] = {
             {"defaultAction", "SCMP_ACT_ALLOW"},
             {"syscalls",
              {{{"names", {"read"}},
                {"action", "SCMP_ACT_ERRNO"},
                {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ABOUT"}}}}}}}};
       },
       "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_ABOUT'"},
      {"sysctl",
       [](json& c) {
         c["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
       },
       "linux.sysctl.vm.swappiness: not namespaced"},
      {"device",
       [](json& c) {
         c["linux"]["devices"] = {{{"path", "/dev/../../x"}, {"type", "c"}}};
       },
       "linux.devices[0].path: must be an absolute path without '..'"},
      {"memory",
       [](json& c) {
         c["linux"]["resources"]["memory"] = {{"limit", "lots"}};
       },
       "linux.resources.memory.limit: must be an integer"},
      {"cgroups path", [](json& c) { c["linux"]["cgroupsPath"] = "/../../escape"; },
       "must not contain '..'"},
      {"root", [](json& c) { c["root"]["path"] = "/nonexistent-root"; },
       "root.path: '/nonexistent-root' is not a directory"},
      {"program", [](json& c) { c["process"]["args"] = {"/bin/not-here"}; },
       "process.args[0]: exec: \"/bin/not-here\": stat /bin/not-here: no such file or directory"},
      {"rlimit above host hard limit",
       [](json& c) {
         c["process"]["rlimits"] = {
             {{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 1ULL << 40}}};
       },
       "RLIMIT_NOFILE hard limit"},
      // Settings berth-oci cannot apply are refused, never dropped.
      {"apparmor", [](json& c) { c["process"]["apparmorProfile"] = "docker-default"; },
       "process.apparmorProfile: 'docker-default' cannot be applied"},
      {"selinux", [](json& c) { c["process"]["selinuxLabel"] = "system_u:system_r:c:s0"; },
       "process.selinuxLabel: 'system_u:system_r:c:s0' cannot be applied"},
      {"blkio leaf weight",
       [](json& c) {
         c["linux"]["resources"]["blockIO"] = {{"leafWeight", 300}};
       },
       "linux.resources.blockIO.leafWeight: this kernel has no blkio leaf weights"},
  };
  // A host without net_cls (this one, and every pure v2 host) must refuse a class id.
  if (!e2e::exists("/sys/fs/cgroup/net_cls/net_cls.classid"))
    cases.push_back({"net_cls",
                     [](json& c) {
                       c["linux"]["resources"]["network"] = {{"classID", 7}};
                     },
                     "net_cls"});
  for (const auto& bc : cases) {
    Bundle b;
    b.config["process"]["args"] = {"true"};
    bc.edit(b.config);
    b.save();
    auto r = b.oci({"create", "--bundle", b.dir(), b.id()});
    EXPECT_NE(r.exit_code, 0) << bc.what;
    EXPECT_NE(r.err.find(bc.error), std::string::npos) << bc.what << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << bc.what << ": one line: " << r.err;
    EXPECT_FALSE(e2e::exists(b.state_root() + "/" + b.id())) << bc.what;
    EXPECT_FALSE(ocitest::cgroup_dir_exists(b.id())) << bc.what;
  }
}

TEST(Security, RlimitAboveTheHostHardLimitExplainsWhy) {
  if (e2e::read_file("/proc/self/status").find("CapEff:\t000001ffffffffff") != std::string::npos)
    GTEST_SKIP() << "this host has CAP_SYS_RESOURCE";
  Bundle b;
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NPROC"}, {"soft", 10}, {"hard", 1ULL << 40}}};
  auto r = b.run_sh("true");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("process.rlimits[0]: RLIMIT_NPROC hard limit 1099511627776 is above this "
                       "host's hard limit"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("CAP_SYS_RESOURCE"), std::string::npos);
}

// Without no_new_privs the init loads the filter before it waits for
// `start` on the exec fifo (as runc's does). A profile that denies read must
// then fail the container, never let its program run before `start`.
TEST(Security, AFilterDenyingReadCannotRunTheProgramBeforeStart) {
  Bundle b;
  e2e::TempDir out;
  b.config["process"]["noNewPrivileges"] = false;
  b.config["process"]["args"] = {"/bin/touch", "/out/ran"};
  b.config["mounts"].push_back(
      {{"destination", "/out"}, {"type", "bind"}, {"source", out.path()}, {"options", {"rbind"}}});
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  b.save();
  e2e::TempDir state;
  std::string pid_file = state.path() + "/pid";
  auto created = b.oci({"create", "--bundle", b.dir(), "--pid-file", pid_file, b.id()});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  int pid = std::stoi(e2e::read_file(pid_file));
  // Only once the init has ended (gone, or a zombie nobody reaped yet) is it
  // certain that nothing it could have run has run.
  auto ended = [pid] {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line)) return true;
    size_t name_end = line.rfind(')');
    return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'Z';
  };
  ASSERT_TRUE(
      e2e::eventually(ended, std::chrono::milliseconds(10000), std::chrono::milliseconds(10)))
      << "the init still waits: the filter did not stop it";
  EXPECT_FALSE(e2e::exists(out.path() + "/ran")) << "the program ran without start";
  auto started = b.oci({"start", b.id()});
  EXPECT_NE(started.exit_code, 0) << started.out;
  EXPECT_FALSE(e2e::exists(out.path() + "/ran")) << "the program ran without start";
}

TEST(Security, MalformedJsonAndBadIds) {
  Bundle b;
  e2e::write_file(b.dir() + "/config.json", "{\"ociVersion\": \"1.0.2\", ");
  auto r = b.oci({"create", "--bundle", b.dir(), b.id()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("config.json: not valid JSON"), std::string::npos) << r.err;
  for (const char* id : {"../escape", "a/b", ""}) {
    auto bad = b.oci({"create", "--bundle", b.dir(), id});
    EXPECT_NE(bad.exit_code, 0) << id;
    EXPECT_NE(bad.err.find("container id"), std::string::npos) << bad.err;
  }
  EXPECT_TRUE(std::filesystem::is_empty(b.state_root()));
}

TEST(Security, DuplicateIdIsRefusedWithoutHarmingTheFirst) {
  Bundle b;
  b.start_sleeping();
  auto r = b.oci({"create", "--bundle", b.dir(), b.id()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("already exists"), std::string::npos);
  EXPECT_EQ(b.status(), "running");
}

// A console socket listener like conmon's: receives the pty master.
TEST(Security, TerminalThroughTheConsoleSocket) {
  Bundle b;
  std::string sock_path = b.dir() + "/console.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, sock_path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  b.config["process"]["terminal"] = true;
  b.config["process"]["consoleSize"] = {{"height", 31}, {"width", 97}};
  b.config["process"]["args"] = {"sh", "-c",
                                 "tty; busybox stty size; stat -c %t:%T /dev/console; sleep 1000"};
  b.save();
  auto r = b.oci({"create", "--console-socket", sock_path, "--bundle", b.dir(), b.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int conn = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  char data[64];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_GT(::recvmsg(conn, &msg, 0), 0);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
  int master;
  std::memcpy(&master, CMSG_DATA(c), sizeof master);
  ASSERT_EQ(b.oci({"start", b.id()}).exit_code, 0);
  std::string out;
  ASSERT_TRUE(e2e::eventually([&] {
    char buf[256];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    return out.find("88:") != std::string::npos;
  }));
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("88:0"), std::string::npos) << "/dev/console is the pty: " << out;
  EXPECT_NE(out.find("31 97"), std::string::npos) << "process.consoleSize: " << out;
  ::close(master);
  ::close(conn);
  ::close(listener);
}

}  // namespace

// A user's shell runs berth-oci in the foreground on its own terminal, with no
// terminal asked for in the config: the caller's stdio goes in (the caller's
// choice, as runc), but the container leaves the caller's session, so it has
// no controlling terminal: /dev/tty does not open and TIOCSTI on the
// inherited terminal is refused, leaving the shell's input clean.
TEST(Security, RunWithoutATerminalCannotPushInputIntoTheCallersTerminal) {
  Bundle b;
  std::filesystem::copy_file(STDIO_PROBE, b.rootfs() + "/probe");
  b.config["process"]["args"] = {"/probe"};
  b.save();
  auto r = e2e::Process({"/usr/bin/python3", std::string(BERTH_TEST_FIXTURES) + "/tty_attack.py",
                         "tty", "tty", "tty", ocitest::berth_oci_bin(), "--root", b.state_root(),
                         "run", "--bundle", b.dir(), b.id()})
               .wait(std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out;
  std::string shown = report["shown"];
  EXPECT_EQ(report["exit"], 0) << shown;
  EXPECT_NE(shown.find("probe done"), std::string::npos) << shown;
  EXPECT_NE(shown.find("fd0 kind=tty tiocsti=EPERM"), std::string::npos) << shown;
  EXPECT_NE(shown.find("devtty open=ENXIO"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("@@INJECTED@@"), std::string::npos) << shown;
  EXPECT_EQ(report["input_left"].get<std::string>().find("@@INJECTED@@"), std::string::npos);
}
