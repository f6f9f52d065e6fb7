// berth's container lifecycle beyond run: create/start, inspect, top, logs
// options, restart policies, --env-file and the other run options, stdin
// with -i, container and image prune, and a berth killed with SIGKILL.
#include <signal.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;
using bt::Engine;
using nlohmann::json;

json inspect(const Engine& e, const std::string& what) {
  auto r = e.berth({"inspect", what});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json all = json::parse(r.out, nullptr, false);
  return all.is_array() && all.size() == 1 ? all[0] : all;  // docker's: one object per name
}

TEST(BerthLifecycle, CreateStartInspectTopStopAndPrune) {
  Engine e;
  auto created = e.berth({"create", "--name", "web", "localhost/box", "sleep", "1000"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(inspect(e, "web")["State"]["Status"], "created");
  EXPECT_NE(e.berth({"ps", "-a"}).out.find("Created"), std::string::npos);  // as docker shows it
  EXPECT_EQ(e.berth({"ps", "-q"}).out, "") << "not running yet";
  json listed = json::parse(e.berth({"ps", "-a", "--format", "json"}).out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["Name"], "web");
  EXPECT_EQ(listed[0]["State"], "created");
  EXPECT_EQ(listed[0]["Id"].get<std::string>() + "\n", created.out);
  EXPECT_EQ(e.berth({"ps", "-a", "--format", "{{.Names}} {{.State}} {{.Image}}"}).out,
            "web created localhost/box\n");
  auto bad_format = e.berth({"ps", "-a", "--format", "{{.Nope}}"});
  EXPECT_NE(bad_format.exit_code, 0);
  EXPECT_NE(bad_format.err.find("no field 'Nope'"), std::string::npos) << bad_format.err;

  ASSERT_EQ(e.berth({"start", "web"}).exit_code, 0);
  json j = inspect(e, created.out.substr(0, 12));  // an id prefix works as well as the name
  EXPECT_EQ(j["State"]["Status"], "running");
  EXPECT_EQ(j["Path"], "sleep");
  EXPECT_EQ(j["Args"], json({"1000"}));
  EXPECT_EQ(e.berth({"inspect", "-f", "{{.State.Status}} {{json .Config.Cmd}}", "web"}).out,
            "running [\"sleep\",\"1000\"]\n");
  auto top = e.berth({"top", "web"});
  EXPECT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find("sleep 1000"), std::string::npos) << top.out;

  auto again = e.berth({"start", "web"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already running"), std::string::npos) << again.err;
  ASSERT_EQ(e.berth({"stop", "-t", "1", "web"}).exit_code, 0);
  auto top_stopped = e.berth({"top", "web"});
  EXPECT_NE(top_stopped.exit_code, 0);
  EXPECT_NE(top_stopped.err.find("not running"), std::string::npos);

  ASSERT_EQ(e.berth({"run", "-d", "--name", "keep", "localhost/box", "sleep", "1000"}).exit_code,
            0);
  auto pruned = e.berth({"container", "prune"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_EQ(pruned.out, created.out) << "only the stopped one";
  EXPECT_NE(e.berth({"inspect", "web"}).exit_code, 0);
  EXPECT_EQ(inspect(e, "keep")["State"]["Status"], "running");
}

TEST(BerthLifecycle, RestartOnFailureRunsUpToTheLimit) {
  Engine e;
  auto run = e.berth({"run", "-d", "--name", "flaky", "--restart", "on-failure:2", "localhost/box",
                      "sh", "-c", "echo attempt; exit 3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The policy runs out after two restarts.
  ASSERT_TRUE(e2e::eventually([&] {
    json j = inspect(e, "flaky");
    return j["State"]["Status"] == "exited" && j["RestartCount"] == 2;
  }));
  EXPECT_EQ(inspect(e, "flaky")["State"]["ExitCode"], 3);
  EXPECT_EQ(e.berth({"logs", "flaky"}).out, "attempt\nattempt\nattempt\n");
  auto bad = e.berth({"run", "--restart", "sometimes", "localhost/box", "true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("--restart 'sometimes'"), std::string::npos) << bad.err;
}

TEST(BerthLifecycle, RestartAlwaysEndsWithStop) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "svc", "--restart", "always", "localhost/box", "sleep",
                     "1000"})
                .exit_code,
            0);
  ASSERT_EQ(e.berth({"stop", "-t", "1", "svc"}).exit_code, 0);
  json j = inspect(e, "svc");
  EXPECT_EQ(j["State"]["Status"], "exited");
  EXPECT_EQ(j["RestartCount"], 0) << "a stop is not a failure to recover from";
}

TEST(BerthLifecycle, EnvFileEntrypointWorkdirUserAndHostname) {
  Engine e;
  e2e::write_file(e.path("env"), "# settings\nA=1\n\nB=two words\nFROM_HOST\n");
  auto r = e2e::Process(e.command({"run", "--rm", "--env-file", e.path("env"), "-e", "A=override",
                                   "--entrypoint", "/bin/sh", "-w", "/tmp", "-u", "1000:1000",
                                   "--hostname", "h1", "localhost/box", "-c",
                                   "echo $A/$B/$FROM_HOST; pwd; id -u; id -g; hostname"}),
                        {"FROM_HOST=passed"})
               .wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "override/two words/passed\n/tmp\n1000\n1000\nh1\n");
  e2e::write_file(e.path("bad-env"), "GOOD=1\nnot a pair\n");
  auto bad = e.berth({"run", "--rm", "--env-file", e.path("bad-env"), "localhost/box", "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
}

TEST(BerthLifecycle, LogsTailTimestampsAndFollow) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "talker", "localhost/box", "sh", "-c",
                     "echo 1; echo 2; echo 3; sleep 1; echo 4"})
                .exit_code,
            0);
  auto follow = e.berth({"logs", "-f", "talker"});  // returns when the container exits
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "1\n2\n3\n4\n");
  EXPECT_EQ(e.berth({"logs", "--tail", "2", "talker"}).out, "3\n4\n");
  auto stamped = e.berth({"logs", "-t", "--tail", "1", "talker"}).out;
  EXPECT_EQ(stamped.substr(0, 2), "20") << stamped;
  EXPECT_EQ(stamped.substr(stamped.size() - 3), " 4\n") << stamped;
}

// A log of many pieces (over 1 MiB of records, with a line longer than a
// 16 KiB record) is read whole in pieces, and --tail reads it from the end.
TEST(BerthLifecycle, LogsOfManyPiecesAndTheirTail) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "--name", "long", "localhost/box", "sh", "-c",
                     "i=0; while [ $i -lt 30000 ]; do echo line$i; i=$((i+1)); done; "
                     "head -c 40000 /dev/zero | tr '\\0' x; echo; echo last"})
                .exit_code,
            0);
  auto all = e.berth({"logs", "long"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 30002);
  EXPECT_EQ(all.out.substr(0, 12), "line0\nline1\n");
  EXPECT_NE(all.out.find("line29999\n" + std::string(40000, 'x') + "\nlast\n"), std::string::npos);
  EXPECT_EQ(e.berth({"logs", "--tail", "1", "long"}).out, "last\n");
  // The 40,000-byte line is three records: --tail counts records, as docker does.
  EXPECT_EQ(e.berth({"logs", "--tail", "2", "long"}).out,
            std::string(40000 - 2 * 16384, 'x') + "\nlast\n");
  EXPECT_EQ(e.berth({"logs", "--tail", "0", "long"}).out, "");
  EXPECT_EQ(e.berth({"logs", "--tail", "100000", "long"}).out, all.out);
}

TEST(BerthLifecycle, InteractiveGivesTheContainerOurStdin) {
  Engine e;
  e2e::write_file(e.path("input"), "typed in\n");
  std::string cmd;
  for (const auto& w : e.command({"run", "--rm", "-i", "localhost/box", "cat"}))
    cmd += "'" + w + "' ";
  auto piped = e2e::Process({"/bin/sh", "-c", cmd + "< " + e.path("input")}).wait();
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "typed in\n");
  cmd.clear();
  for (const auto& w : e.command({"run", "--rm", "localhost/box", "cat"})) cmd += "'" + w + "' ";
  auto closed = e2e::Process({"/bin/sh", "-c", cmd + "< " + e.path("input")}).wait();
  EXPECT_EQ(closed.exit_code, 0) << closed.err;
  EXPECT_EQ(closed.out, "") << "without -i the container's stdin is empty";
}

TEST(BerthLifecycle, ImagePruneKeepsWhatContainersUse) {
  Engine e;
  bt::make_busybox_root(e.path("other"));
  e2e::write_file(e.path("other/extra"), "x");
  ASSERT_EQ(e2e::Process({"/bin/tar", "-C", e.path("other"), "-cf", e.path("other.tar"), "."})
                .wait()
                .exit_code,
            0);
  ASSERT_EQ(e.berth({"import", e.path("other.tar"), "localhost/other"}).exit_code, 0);
  ASSERT_EQ(e.berth({"create", "--name", "user", "localhost/box", "true"}).exit_code, 0);
  auto layers_before = std::distance(fs::directory_iterator(e.store("layers")), {});
  EXPECT_EQ(layers_before, 2);
  auto pruned = e.berth({"image", "prune", "-a"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("localhost/other"), std::string::npos) << pruned.out;
  EXPECT_EQ(pruned.out.find("localhost/box"), std::string::npos) << pruned.out;
  EXPECT_EQ(std::distance(fs::directory_iterator(e.store("layers")), {}), 1);
  auto run = e.berth({"start", "-a", "user"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST(BerthLifecycle, SigkillOfAnAttachedBerthLeavesAWorkingContainer) {
  Engine e;
  e2e::Process attached(e.command({"run", "--name", "survivor", "localhost/box", "sleep", "1000"}));
  ASSERT_TRUE(e2e::eventually([&] { return e.berth({"ps", "-q"}).out.size() > 0; }));
  attached.signal(SIGKILL);
  attached.wait();
  // The monitor holds the container: the state reads correctly and commands work.
  EXPECT_EQ(inspect(e, "survivor")["State"]["Status"], "running");
  EXPECT_EQ(e.berth({"exec", "survivor", "true"}).exit_code, 0);
  EXPECT_EQ(e.berth({"stop", "-t", "1", "survivor"}).exit_code, 0);
  EXPECT_EQ(inspect(e, "survivor")["State"]["Status"], "exited");
  EXPECT_EQ(e.berth({"rm", "survivor"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(BerthSecurity, DefaultSeccompProfileAndItsOptOut) {
  Engine e;
  // unshare(CLONE_NEWUSER) needs no capability: only the profile stops it.
  auto confined = e.berth({"run", "--rm", "localhost/box", "sh", "-c",
                           "grep Seccomp: /proc/self/status; busybox unshare -U true; echo $?"});
  EXPECT_EQ(confined.exit_code, 0) << confined.err;
  EXPECT_NE(confined.out.find("Seccomp:\t2"), std::string::npos) << confined.out;
  EXPECT_NE(confined.err.find("Operation not permitted"), std::string::npos) << confined.err;
  EXPECT_EQ(confined.out.substr(confined.out.size() - 2), "1\n") << confined.out;
  auto open = e.berth({"run", "--rm", "--security-opt", "seccomp=unconfined", "localhost/box", "sh",
                       "-c", "grep Seccomp: /proc/self/status"});
  EXPECT_EQ(open.out, "Seccomp:\t0\n") << open.err;
  auto bad = e.berth({"run", "--rm", "--security-opt", "apparmor=x", "localhost/box", "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--security-opt 'apparmor=x'"), std::string::npos) << bad.err;
  // no-new-privileges: the kernel's flag on the container's process.
  auto nnp = e.berth({"run", "--rm", "--security-opt", "no-new-privileges", "localhost/box", "sh",
                      "-c", "grep NoNewPrivs: /proc/self/status"});
  EXPECT_EQ(nnp.out, "NoNewPrivs:\t1\n") << nnp.err;
  auto plain =
      e.berth({"run", "--rm", "localhost/box", "sh", "-c", "grep NoNewPrivs: /proc/self/status"});
  EXPECT_EQ(plain.out, "NoNewPrivs:\t0\n") << "docker's default: " << plain.err;
}

TEST(BerthSecurity, UserNamesComeFromTheImage) {
  Engine e(false);
  bt::make_busybox_root(e.path("root"));
  e2e::write_file(e.path("root/etc/passwd"),
                  "root:x:0:0::/root:/bin/sh\napp:x:1234:2345::/:/bin/sh\n");
  e2e::write_file(e.path("root/etc/group"), "root:x:0:\napp:x:2345:\nextra:x:777:other,app\n");
  ASSERT_EQ(e2e::Process({"/bin/tar", "-C", e.path("root"), "-cf", e.path("r.tar"), "."})
                .wait()
                .exit_code,
            0);
  ASSERT_EQ(e.berth({"import", e.path("r.tar"), "localhost/users"}).exit_code, 0);
  auto r =
      e.berth({"run", "--rm", "-u", "app", "localhost/users", "sh", "-c", "id -u; id -g; id -G"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1234\n2345\n2345 777\n");
  auto g = e.berth({"run", "--rm", "-u", "app:extra", "localhost/users", "id", "-g"});
  EXPECT_EQ(g.out, "777\n") << g.err;
  auto missing = e.berth({"run", "--rm", "-u", "nobody", "localhost/users", "true"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no user 'nobody'"), std::string::npos) << missing.err;
}

}  // namespace

namespace {

TEST(BerthTerminal, RunItGivesARealTerminalThatFollowsResizes) {
  Engine e;
  std::vector<std::string> argv = {
      "/usr/bin/python3", std::string(BERTH_TEST_FIXTURES) + "/pty_run.py", "33", "77", "44", "99"};
  for (const auto& w : e.command({"run", "-it", "--rm", "localhost/box", "sh", "-c",
                                  "tty; stty size; echo READY; read x; stty size; exit 3"}))
    argv.push_back(w);
  auto r = e2e::Process(argv).wait(std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("33 77"), std::string::npos) << "the user's size at start: " << r.out;
  EXPECT_NE(r.out.find("44 99"), std::string::npos) << "the size after a resize: " << r.out;
  EXPECT_NE(r.out.find("exit 3"), std::string::npos) << "the exit status: " << r.out;
}

TEST(BerthTerminal, ExecItAndExecI) {
  Engine e;
  ASSERT_EQ(e.berth({"run", "-d", "--name", "box", "localhost/box", "sleep", "1000"}).exit_code, 0);
  std::vector<std::string> argv = {
      "/usr/bin/python3", std::string(BERTH_TEST_FIXTURES) + "/pty_run.py", "20", "60", "25", "70"};
  for (const auto& w : e.command({"exec", "-it", "box", "sh", "-c",
                                  "tty; stty size; echo READY; read x; stty size; exit 4"}))
    argv.push_back(w);
  auto r = e2e::Process(argv).wait(std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("20 60"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("25 70"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exit 4"), std::string::npos) << r.out;

  e2e::write_file(e.path("input"), "piped\n");
  std::string with, without;
  for (const auto& w : e.command({"exec", "-i", "box", "cat"})) with += "'" + w + "' ";
  for (const auto& w : e.command({"exec", "box", "cat"})) without += "'" + w + "' ";
  EXPECT_EQ(e2e::Process({"/bin/sh", "-c", with + "< " + e.path("input")}).wait().out, "piped\n");
  EXPECT_EQ(e2e::Process({"/bin/sh", "-c", without + "< " + e.path("input")}).wait().out, "");
}

TEST(BerthTerminal, DetachedTtyOutputIsLogged) {
  Engine e;
  ASSERT_EQ(
      e.berth({"run", "-d", "-t", "--name", "tt", "localhost/box", "sh", "-c", "tty; echo done"})
          .exit_code,
      0);
  ASSERT_EQ(e.berth({"wait", "tt"}).exit_code, 0);
  std::string logs = e.berth({"logs", "tt"}).out;
  EXPECT_NE(logs.find("/dev/pts/0"), std::string::npos) << logs;
  EXPECT_NE(logs.find("done"), std::string::npos) << logs;
}

}  // namespace
