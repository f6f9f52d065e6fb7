// The hostile container: a program inside (tests/berth/probes/stdio_probe.cc)
// attacks every standard stream it was given and /dev/tty — TIOCSTI and
// TIOCLINUX, fchmod/fchown, a truncating reopen through /proc/self/fd, a
// pwrite over the start — for run, run -i, start -a, exec and exec -i, each
// started from a user's shell on a real terminal with stdout a host file.
// Nothing may reach the host's terminal (no injected input left in it) or
// the host's file (its content, mode and owner stay), and the probe must have
// run (its report is in the file).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;

using bt::Engine;

constexpr const char* kHostContent = "HOST-CONTENT\n";
constexpr const char* kMarker = "@@INJECTED@@";

// An engine with localhost/probe: busybox, the stdio probe at /probe and
// the system call probe at /syscalls.
class Escapes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = e_.path("probe-root");
    bt::make_busybox_root(root);
    fs::copy_file(STDIO_PROBE, root + "/probe");
    fs::copy_file(SYSCALL_PROBE, root + "/syscalls");
    fs::create_directories(root + "/mnt");
    auto tar = e2e::Process({"/bin/tar", "-C", root, "-cf", e_.path("probe.tar"), "."}).wait();
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    auto imp = e_.berth({"import", e_.path("probe.tar"), "localhost/probe"});
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
  }

  // Runs berth ARGS from a shell on a new terminal: stdin `in` ("tty" or a
  // file), stdout the host file, stderr the terminal. Checks the terminal
  // and the file afterwards; returns the file's content.
  std::string attack(const std::vector<std::string>& args, const std::string& in = "tty") {
    std::string out = e_.path("host-out");
    e2e::write_file(out, kHostContent, 0640);
    std::vector<std::string> argv = {
        "/usr/bin/python3", std::string(BERTH_TEST_FIXTURES) + "/tty_attack.py", in, out, "tty"};
    for (auto& a : e_.command(args)) argv.push_back(a);
    auto r = e2e::Process(argv).wait(std::chrono::seconds(180));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto report = nlohmann::json::parse(r.out, nullptr, false);
    if (!report.is_object()) {
      ADD_FAILURE() << "tty_attack.py printed " << r.out << r.err;
      return "";
    }
    std::string what = fmt::format("berth {}", fmt::join(args, " "));
    EXPECT_EQ(report["exit"], 0) << what << ": " << report["shown"];
    EXPECT_EQ(report["shown"].get<std::string>().find(kMarker), std::string::npos)
        << what << ": the terminal showed injected input";
    EXPECT_EQ(report["input_left"].get<std::string>().find(kMarker), std::string::npos)
        << what << ": injected input waits in the host's terminal";
    std::string content = e2e::read_file(out);
    EXPECT_EQ(content.rfind(kHostContent, 0), 0u) << what << ": the host file was rewritten";
    EXPECT_NE(content.find("probe done"), std::string::npos) << what << ": " << content;
    struct stat st {};
    EXPECT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << what << ": the host file's mode changed";
    EXPECT_EQ(st.st_uid, 0u) << what << ": the host file's owner changed";
    EXPECT_EQ(st.st_gid, 0u) << what;
    return content;
  }

  Engine e_;
};

// The probe's line for one stream, e.g. "fd0 kind=fifo ...".
std::string line_of(const std::string& report, const std::string& name) {
  size_t at = report.find(name + " ");
  if (at == std::string::npos) return "";
  return report.substr(at, report.find('\n', at) - at);
}

TEST_F(Escapes, RunGivesTheContainerPipesNotTheHostsTerminalOrFiles) {
  std::string report = attack({"run", "--rm", "localhost/probe", "/probe"});
  EXPECT_NE(line_of(report, "fd0").find("kind=chr"), std::string::npos)
      << "without -i stdin reads /dev/null: " << report;
  EXPECT_NE(line_of(report, "fd1").find("kind=fifo"), std::string::npos) << report;
  EXPECT_NE(line_of(report, "fd2").find("kind=fifo"), std::string::npos) << report;
  EXPECT_NE(line_of(report, "devtty").find("open=ENXIO"), std::string::npos)
      << "the container has no controlling terminal: " << report;
}

TEST_F(Escapes, RunInteractiveRelaysStdinThroughAPipe) {
  std::string report = attack({"run", "--rm", "-i", "localhost/probe", "/probe"});
  EXPECT_NE(line_of(report, "fd0").find("kind=fifo"), std::string::npos) << report;
  // A host file as stdin is not handed over either.
  std::string in = e_.path("host-in");
  e2e::write_file(in, "input\n", 0640);
  report = attack({"run", "--rm", "-i", "localhost/probe", "/probe"}, in);
  EXPECT_NE(line_of(report, "fd0").find("kind=fifo"), std::string::npos) << report;
  struct stat st {};
  ASSERT_EQ(::stat(in.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(Escapes, StartAttachedGivesPipesToo) {
  auto made = e_.berth({"create", "--name", "again", "-i", "localhost/probe", "/probe"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string report = attack({"start", "-a", "again"});
  EXPECT_NE(line_of(report, "fd1").find("kind=fifo"), std::string::npos) << report;
}

TEST_F(Escapes, ExecAndExecInteractiveGivePipes) {
  auto up = e_.berth({"run", "-d", "--name", "host", "localhost/probe", "sleep", "1000"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::string report = attack({"exec", "host", "/probe"});
  EXPECT_NE(line_of(report, "fd0").find("kind=chr"), std::string::npos) << report;
  EXPECT_NE(line_of(report, "fd1").find("kind=fifo"), std::string::npos) << report;
  EXPECT_NE(line_of(report, "devtty").find("open=ENXIO"), std::string::npos) << report;
  report = attack({"exec", "-i", "host", "/probe"});
  EXPECT_NE(line_of(report, "fd0").find("kind=fifo"), std::string::npos) << report;
}

TEST_F(Escapes, ExecInteractiveStillCarriesInputAndOutput) {
  auto up = e_.berth({"run", "-d", "--name", "cat", "localhost/probe", "sleep", "1000"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::string in = e_.path("lines");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += fmt::format("line {}\n", i);
  e2e::write_file(in, text);
  std::vector<std::string> argv = {"/bin/sh", "-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", in};
  for (auto& a : e_.command({"exec", "-i", "cat", "sh", "-c", "cat; echo err >&2"}))
    argv.push_back(a);
  auto r = e2e::Process(argv).wait(std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == text) << "relayed stdin came back with " << r.out.size() << " bytes";
  EXPECT_EQ(r.err, "err\n");
}

// The relay keeps the pipeline's sense: input reaches a command that closed
// its output first, and a reader that goes away (`| head -1`) lets the
// pipeline finish: exec's command meets EPIPE; run's client ends as docker's
// does on SIGPIPE, the container running on as if detached.
TEST_F(Escapes, TheRelayFeedsSilentCommandsAndStopsForGoneReaders) {
  auto up = e_.berth({"run", "-d", "--name", "quiet", "localhost/probe", "sleep", "1000"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::string in = e_.path("payload");
  e2e::write_file(in, "payload line\n");
  std::vector<std::string> argv = {"/bin/sh", "-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", in};
  for (auto& a :
       e_.command({"exec", "-i", "quiet", "sh", "-c", "exec >/dev/null 2>&1; cat > /tmp/got"}))
    argv.push_back(a);
  auto fed = e2e::Process(argv).wait(std::chrono::seconds(60));
  EXPECT_EQ(fed.exit_code, 0) << fed.err;
  EXPECT_EQ(e_.berth({"exec", "quiet", "cat", "/tmp/got"}).out, "payload line\n");

  auto quoted = [](const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += "'" + w + "' ";
    return out;
  };
  for (const auto& cmd :
       {e_.command({"exec", "quiet", "sh", "-c", "while :; do echo y; done"}),
        e_.command({"run", "--rm", "localhost/probe", "sh", "-c", "while :; do echo y; done"})}) {
    auto r =
        e2e::Process({"/bin/sh", "-c", quoted(cmd) + "| head -1"}).wait(std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << quoted(cmd) << r.err;
    EXPECT_EQ(r.out, "y\n") << quoted(cmd);
  }
}

// Docker's default profile, tried from inside: what the containers profile
// allows but Docker does not (user namespaces, which would give the
// container CAP_NET_ADMIN over a network of its own; mounts) fails with
// EPERM, io_uring and clone3 with ENOSYS, and personality() only takes the
// harmless values. seccomp=unconfined shows the probe can tell.
TEST_F(Escapes, TheDefaultSeccompProfileIsDockers) {
  auto r = e_.berth({"run", "--rm", "localhost/probe", "/syscalls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "=E": refused, by whichever errno (a value outside the allowed ones
  // falls to the profile's default, ENOSYS).
  for (const char* want :
       {"io_uring_setup=ENOSYS\n", "personality_read_implies_exec=E",
        "personality_addr_no_randomize=E", "personality_linux=ok\n", "unshare_user_net=EPERM\n",
        "clone_newuser=EPERM\n", "clone_plain=ok\n", "clone3_newuser=ENOSYS\n",
        "mount_tmpfs=EPERM\n", "keyctl=EPERM\n", "setns=EPERM\n", "probe done\n"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  auto open = e_.berth(
      {"run", "--rm", "--security-opt", "seccomp=unconfined", "localhost/probe", "/syscalls"});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_NE(open.out.find("io_uring_setup=ok"), std::string::npos) << open.out;
  EXPECT_NE(open.out.find("unshare_user_net=ok"), std::string::npos) << open.out;
}

// Hostile images: /etc/passwd and /etc/group that point at host files, at
// /dev/zero, or are FIFOs. A name lookup for -u resolves inside the image
// or is refused with one line naming the file; nothing is left half-made.
class HostileUserFiles : public ::testing::Test {
 protected:
  // Imports busybox with `make` applied to its root as localhost/NAME.
  void image(const std::string& name, const std::function<void(const std::string&)>& make) {
    std::string root = e_.path(name + "-root");
    bt::make_busybox_root(root);
    make(root);
    auto tar = e2e::Process({"/bin/tar", "-C", root, "-cf", e_.path(name + ".tar"), "."}).wait();
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    auto imp = e_.berth({"import", e_.path(name + ".tar"), "localhost/" + name});
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
  }
  void expect_nothing_left() {
    EXPECT_EQ(e_.berth({"ps", "-a", "-q"}).out, "");
    for (const auto& d : fs::directory_iterator(e_.store("containers")))
      ADD_FAILURE() << "left behind: " << d.path();
  }
  Engine e_;
};

TEST_F(HostileUserFiles, ASymlinkToAHostFileIsResolvedInsideTheImage) {
  std::string host = e_.path("host-passwd");
  e2e::write_file(host, "hostonly:x:4242:4242::/:/bin/sh\n");
  e2e::write_file(e_.path("host-group"), "hostgroup:x:4343:\n");
  image("links", [&](const std::string& root) {
    fs::remove(root + "/etc/passwd");
    fs::remove(root + "/etc/group");
    fs::create_symlink(host, root + "/etc/passwd");
    fs::create_symlink("../../../../../../../.." + e_.path("host-group"), root + "/etc/group");
  });
  auto r = e_.berth({"run", "--rm", "-u", "hostonly", "localhost/links", "id", "-u"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("no user 'hostonly' in the image's /etc/passwd"), std::string::npos)
      << r.err;
  auto g = e_.berth({"run", "--rm", "-u", "0:hostgroup", "localhost/links", "id", "-g"});
  EXPECT_NE(g.exit_code, 0) << g.out;
  EXPECT_NE(g.err.find("no group 'hostgroup'"), std::string::npos) << g.err;
  expect_nothing_left();
  auto numeric = e_.berth({"run", "--rm", "-u", "1234:5678", "localhost/links", "id", "-u"});
  EXPECT_EQ(numeric.exit_code, 0) << numeric.err;
  EXPECT_EQ(numeric.out, "1234\n");
}

TEST_F(HostileUserFiles, DevicesAndFifosAreRefusedWithoutReadingThem) {
  image("devices", [&](const std::string& root) {
    fs::remove(root + "/etc/passwd");
    fs::remove(root + "/etc/group");
    fs::create_directories(root + "/dev");
    ASSERT_EQ(::mknod((root + "/dev/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
    fs::create_symlink("/dev/zero", root + "/etc/passwd");
    ASSERT_EQ(::mkfifo((root + "/etc/group").c_str(), 0644), 0);
  });
  auto r = e_.berth({"run", "--rm", "-u", "app", "localhost/devices", "true"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("--user 'app': the image's /etc/passwd is not a regular file"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  auto g = e_.berth({"run", "--rm", "-u", "0:staff", "localhost/devices", "true"});
  EXPECT_NE(g.exit_code, 0);
  EXPECT_NE(g.err.find("the image's /etc/group is not a regular file"), std::string::npos) << g.err;
  expect_nothing_left();
  auto root = e_.berth({"run", "--rm", "localhost/devices", "echo", "ok"});
  EXPECT_EQ(root.exit_code, 0) << "no name to look up, nothing to refuse: " << root.err;
}

TEST_F(HostileUserFiles, AHugePasswdIsRefused) {
  image("huge", [&](const std::string& root) {
    std::string text = "root:x:0:0::/root:/bin/sh\n";
    text += std::string(3 << 20, '#') + "\napp:x:1000:1000::/:/bin/sh\n";
    e2e::write_file(root + "/etc/passwd", text);
  });
  auto r = e_.berth({"run", "--rm", "-u", "app", "localhost/huge", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the image's /etc/passwd is larger than"), std::string::npos) << r.err;
  expect_nothing_left();
}

// A container that nests directories deeper than berth's fd limit (here
// lowered to 64 with prlimit; a hostile one can go past any limit) is still
// listed with its size (a file 300 levels down) and removed whole: the tree
// walks hold one directory fd at a time.
TEST(HostileTrees, AContainerNestingPastTheFdLimitIsStillRemoved) {
  Engine e;
  auto made = e.berth({"run", "--network", "none", "--name", "deep", "localhost/box", "sh", "-c",
                       "mkdir d; i=0; while [ $i -lt 300 ]; do mkdir t; mv d t/d; mv t d; "
                       "i=$((i+1)); done; i=0; while [ $i -lt 300 ]; do cd d; i=$((i+1)); "
                       "done; echo x > f"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto limited = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = e.command(std::move(args));
    argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nofile=64"});
    return e2e::Process(argv).wait(std::chrono::seconds(300));
  };
  auto listed = limited({"ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.substr(0, listed.out.find(" (")), "deep 2B") << listed.out;
  std::string id = bt::Engine::split(e.berth({"ps", "-aq", "--no-trunc"}).out).at(0);
  auto removed = limited({"rm", "deep"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(e.container_ids().empty());
  EXPECT_EQ(e.host_traces({id}), "");
}

}  // namespace
