// `attach` against docker's: the same words given to a private dockerd and
// to berth (side_by_side.h); then berth's attach socket under attack by
// peers that are not berth (a broken frame, a reader that never reads, a
// user that is not the monitor's).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

using bt::SideBySide;

// Prints "tick" until /tmp/go exists, then "out" and "err", and exits 3: an
// attacher that has seen a tick is connected before the lines that count.
constexpr const char* kTicker =
    "while [ ! -e /tmp/go ]; do echo tick; sleep 0.05; done; echo out; echo err >&2; exit 3";

std::vector<std::string> with_input(const std::string& input, std::vector<std::string> argv) {
  std::vector<std::string> out = {"/bin/sh", "-c", "printf '" + input + "' | \"$@\"", "sh"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// A connection to berth's attach socket of container `id`, made as a
// client that is not berth.
int connect_raw(const bt::Engine& berth, const std::string& id) {
  std::string dir = berth.store("containers/" + id);
  int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd) + "/attach.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int made = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(dir_fd);
  if (made != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads from `fd` until `text` arrived (or nothing more comes).
bool read_until(int fd, const std::string& text) {
  std::string got;
  char buf[4096];
  while (got.find(text) == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return true;
}

TEST(DockerAttach, OutputErrorsAndTheExitStatusAsDockers) {
  SideBySide s;
  s.both_succeed({"create", "--name", "made", "IMG", "true"});
  s.refused({"attach", "made"}, 1, "is not running");
  s.both_succeed({"run", "-d", "--name", "tk", "IMG", "sh", "-c", kTicker});
  e2e::Process ours(s.berth.command({"attach", "tk"}));
  e2e::Process theirs(s.docker.docker_argv({"attach", "tk"}));
  ASSERT_TRUE(e2e::eventually([&] { return ours.out().find("tick\n") != std::string::npos; }));
  ASSERT_TRUE(e2e::eventually([&] { return theirs.out().find("tick\n") != std::string::npos; }));
  s.both_succeed({"exec", "tk", "touch", "/tmp/go"});
  auto o = ours.wait(std::chrono::seconds(60));
  auto t = theirs.wait(std::chrono::seconds(60));
  EXPECT_EQ(t.exit_code, 3) << t.err;
  EXPECT_EQ(o.exit_code, 3) << o.err;
  EXPECT_EQ(t.err, "err\n");
  EXPECT_EQ(o.err, "err\n");
  for (const auto* out : {&o.out, &t.out})
    EXPECT_EQ(out->substr(out->size() - 9), "tick\nout\n") << *out;
  // Exited now: attaching is refused again.
  s.refused({"attach", "tk"}, 1, "is not running");
}

TEST(DockerAttach, StdinReachesAnInteractiveContainerUnlessNoStdin) {
  SideBySide s;
  const std::vector<std::string> reader = {"sh", "-c",
                                           "read -t 5 line; echo \"got:[$line]\"; exit 5"};
  auto with = [&](std::vector<std::string> words) {
    words.insert(words.end(), reader.begin(), reader.end());
    return words;
  };
  // Each pair side by side: the containers wait 5 s for a line at most.
  s.both_succeed(with({"run", "-di", "--name", "rd", "IMG"}));
  e2e::Process ours(with_input("hello\\n", s.berth.command({"attach", "rd"})));
  e2e::Process theirs(with_input("hello\\n", s.docker.docker_argv({"attach", "rd"})));
  auto o = ours.wait();
  auto t = theirs.wait();
  EXPECT_EQ(t.exit_code, 5) << t.err;  // docker's client may lose the line it got back
  EXPECT_EQ(o.exit_code, 5) << o.err;
  EXPECT_EQ(o.out, "got:[hello]\n");
  s.same({"logs", "rd"});

  s.both_succeed(with({"run", "-di", "--name", "nostdin", "IMG"}));
  e2e::Process ours_n(with_input("hello\\n", s.berth.command({"attach", "--no-stdin", "nostdin"})));
  e2e::Process theirs_n(
      with_input("hello\\n", s.docker.docker_argv({"attach", "--no-stdin", "nostdin"})));
  o = ours_n.wait();
  t = theirs_n.wait();
  EXPECT_EQ(o.exit_code, 5) << o.err;
  EXPECT_EQ(t.exit_code, 5) << t.err;
  EXPECT_EQ(o.out, "got:[]\n");
  EXPECT_EQ(t.out, "got:[]\n");
}

TEST(DockerAttach, ATerminalContainer) {
  SideBySide s;
  s.both_succeed({"run", "-dt", "--name", "tt", "IMG", "sh", "-c",
                  "while [ ! -e /tmp/go ]; do echo tick; sleep 0.05; done; echo tty; exit 4"});
  // Our stdin is no terminal: refused, as docker refuses it.
  s.refused({"attach", "tt"}, 1, "the input device is not a TTY");
  e2e::Process ours(s.berth.command({"attach", "--no-stdin", "tt"}));
  e2e::Process theirs(s.docker.docker_argv({"attach", "--no-stdin", "tt"}));
  ASSERT_TRUE(e2e::eventually([&] { return ours.out().find("tick\r\n") != std::string::npos; }));
  ASSERT_TRUE(e2e::eventually([&] { return theirs.out().find("tick\r\n") != std::string::npos; }));
  s.both_succeed({"exec", "tt", "touch", "/tmp/go"});
  auto o = ours.wait(std::chrono::seconds(60));
  auto t = theirs.wait(std::chrono::seconds(60));
  EXPECT_EQ(o.exit_code, 4) << o.err;
  EXPECT_EQ(t.exit_code, 4) << t.err;
  // The terminal's line ends, as docker's.
  for (const auto* out : {&o.out, &t.out})
    EXPECT_EQ(out->substr(out->size() - 11), "tick\r\ntty\r\n") << *out;
}

TEST(DockerAttach, SignalsGoToTheContainer) {
  SideBySide s;
  const std::vector<std::string> trapper = {
      "run",    "-d",
      "--name", "sg",
      "IMG",    "sh",
      "-c",     "trap 'echo caught; exit 7' INT; while :; do echo tick; sleep 0.05; done"};
  s.both_succeed(trapper);
  e2e::Process ours(s.berth.command({"attach", "sg"}));
  e2e::Process theirs(s.docker.docker_argv({"attach", "sg"}));
  ASSERT_TRUE(e2e::eventually([&] { return ours.out().find("tick\n") != std::string::npos; }));
  ASSERT_TRUE(e2e::eventually([&] { return theirs.out().find("tick\n") != std::string::npos; }));
  ours.signal(SIGINT);
  theirs.signal(SIGINT);
  auto o = ours.wait(std::chrono::seconds(60));
  auto t = theirs.wait(std::chrono::seconds(60));
  EXPECT_EQ(o.exit_code, 7) << o.err;
  EXPECT_EQ(t.exit_code, 7) << t.err;
  EXPECT_EQ(o.out.substr(o.out.size() - 7), "caught\n");
  EXPECT_EQ(t.out.substr(t.out.size() - 7), "caught\n");
}

TEST(BerthAttach, TheDetachKeysLeaveATerminalContainerRunning) {
  bt::Engine berth;
  auto run =
      berth.berth({"run", "-dit", "--network", "none", "--name", "sh", "localhost/box", "sh"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // script(1) gives berth attach a terminal; the keys come after a command.
  std::string attach;
  for (const auto& w : berth.command({"attach", "sh"})) attach += "'" + w + "' ";
  auto r = e2e::Process({"/bin/sh", "-c",
                         "(sleep 1; printf 'echo hi-$((6*7))\\r'; sleep 1; printf '\\020\\021'; "
                         "sleep 1) | script -qec \"" +
                             attach + "; echo rc=\\$?\" /dev/null"})
               .wait(std::chrono::seconds(60));
  EXPECT_NE(r.out.find("hi-42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read escape sequence\r\nrc=1"), std::string::npos) << r.out;
  EXPECT_EQ(bt::first_line(berth.berth({"inspect", "-f", "{{.State.Status}}", "sh"}).out),
            "running");
  auto bad = berth.berth({"attach", "--detach-keys", "ctrl-é", "sh"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--detach-keys"), std::string::npos) << bad.err;
}

TEST(BerthAttach, HostilePeersNeitherStallNorBreakTheContainer) {
  bt::Engine berth;
  // Ticks until /tmp/go, then 24 MiB of output (in long lines: a log no
  // bigger), then exits 0.
  auto run =
      berth.berth({"run", "-d", "--network", "none", "--name", "big", "localhost/box", "sh", "-c",
                   "while [ ! -e /tmp/go ]; do echo tick; sleep 0.05; done; "
                   "head -c 25165824 /dev/zero | tr '\\0' a; echo; echo done"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string id = bt::first_line(berth.berth({"inspect", "-f", "{{.Id}}", "big"}).out);

  // A peer that sends a frame far over the limit is dropped.
  int broken = connect_raw(berth, id);
  ASSERT_GE(broken, 0);
  const char huge[5] = {0, '\xff', '\xff', '\xff', '\x7f'};
  ASSERT_EQ(::write(broken, huge, sizeof huge), 5);
  char c;
  EXPECT_EQ(::read(broken, &c, 1), 0);  // closed on it (ticks queued are not sent)
  ::close(broken);

  // A user that is not the monitor's cannot connect.
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    int fd = connect_raw(berth, id);
    ::_exit(fd < 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  // A peer that reads the first tick and then nothing more: the container
  // writes its 24 MiB and ends anyway, a real attacher sees it all, and the
  // peer, dropped, gets less.
  int stuck = connect_raw(berth, id);
  ASSERT_GE(stuck, 0);
  ASSERT_TRUE(read_until(stuck, "tick"));
  e2e::Process watcher(berth.command({"attach", "big"}));
  ASSERT_TRUE(e2e::eventually([&] { return watcher.out().find("tick\n") != std::string::npos; }));
  auto go = berth.berth({"exec", "big", "touch", "/tmp/go"});
  ASSERT_EQ(go.exit_code, 0) << go.err;
  auto w = watcher.wait(std::chrono::seconds(120));
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out.substr(w.out.size() - 5), "done\n");
  EXPECT_GT(w.out.size(), size_t{25165824});
  auto waited = berth.berth({"wait", "big"});
  EXPECT_EQ(waited.out, "0\n");
  size_t got = 0;
  char buf[65536];
  for (ssize_t n; (n = ::read(stuck, buf, sizeof buf)) > 0;) got += static_cast<size_t>(n);
  EXPECT_LT(got, size_t{25165824});
  ::close(stuck);
}

}  // namespace
