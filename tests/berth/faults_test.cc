// berth's lifecycle when things go wrong, on the default bridge inside each
// engine's own network namespace: a fault injected at every step of create,
// start, stop and rm (SHIPYARD_FAULTS, base/fault_injection.h: the seams
// the guards already have, not luck), SIGKILL of each berth command (and
// of its monitor) at many moments, 30 runs racing 30 removals, removals
// racing each other, and 100
// rounds of run-then-start. After each, the store reads consistently and
// `rm -f` leaves nothing on the host: no mount, cgroup, runtime state,
// veth, address, DNAT rule or file (Engine::host_traces lists them).
#include <signal.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
using bt::Engine;

e2e::ProcResult with_fault(const Engine& e, const std::string& step,
                           std::vector<std::string> args) {
  return e2e::Process(e.command(std::move(args)), {"SHIPYARD_FAULTS=" + step})
      .wait(std::chrono::seconds(120));
}

// One line naming the injected step, and berth's exit code for its own failure.
void expect_clean_failure(const e2e::ProcResult& r, const std::string& step, int code) {
  EXPECT_EQ(r.exit_code, code) << step << ": " << r.err;
  EXPECT_NE(r.err.find(step + ": injected fault"), std::string::npos) << step << ": " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << step << ": " << r.err;
}

// Every listed container is either running with a live program or not running.
// A container may end on its own between two listings (`run --rm ... echo`
// whose berth was killed): it must then read as not running, never as Up.
void expect_consistent(const Engine& e) {
  auto ps = e.berth({"ps", "-a", "--format", "{{.FullID}}:{{.State}}"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  auto running_now = [&](const std::string& id, int* pid) {
    auto rec = nlohmann::json::parse(e.berth({"inspect", id}).out, nullptr, false);
    if (!rec.is_array() || rec.empty()) return false;
    if (pid) *pid = rec[0]["State"].value("Pid", 0);
    return rec[0]["State"].value("Running", false);
  };
  std::set<std::string> listed, alive;
  for (const auto& line : Engine::split(ps.out)) {  // one word a container
    std::string id = line.substr(0, line.find(':'));
    listed.insert(id.substr(0, 12));
    if (line.find(":running") == std::string::npos) continue;
    int pid = 0;
    if (!running_now(id, &pid)) continue;  // it ended meanwhile
    // A program that ends right after `inspect` is read as exited once its
    // monitor has seen it end: only one still shown Up after that is wrong.
    bool live = pid > 0 && ::kill(pid, 0) == 0;
    for (int i = 0; !live && i < 50 && running_now(id, nullptr); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(live || !running_now(id, nullptr)) << "shown Up with no live program: " << line;
    alive.insert(id);
  }
  // The listing and `ps` (running only) agree.
  auto q = Engine::split(e.berth({"ps", "-q"}).out);
  std::set<std::string> shown(q.begin(), q.end());
  for (const auto& id : shown) EXPECT_TRUE(listed.count(id)) << id << " in ps, not in ps -a";
  for (const auto& id : alive) {
    if (running_now(id, nullptr)) {
      EXPECT_TRUE(shown.count(id.substr(0, 12))) << id;
    }
  }
  EXPECT_EQ(e.berth({"images"}).exit_code, 0);
  EXPECT_EQ(e.berth({"network", "ls"}).exit_code, 0);
}

// After a listing, only running containers have their root mounted.
void expect_no_idle_root_mounted(const Engine& e) {
  auto ps = e.berth({"ps", "-a", "--format", "{{.FullID}}:{{.State}}"});
  std::string mounts = e2e::read_file("/proc/self/mountinfo");
  for (const auto& line : Engine::split(ps.out)) {  // one word a container
    std::string id = line.substr(0, line.find(':'));
    if (line.find(":running") != std::string::npos) continue;
    EXPECT_EQ(mounts.find(e.store("containers/" + id) + "/bundle/rootfs "), std::string::npos)
        << "the root of a container that is not running is mounted: " << line;
  }
}

// rm -f of everything; afterwards nothing of `ids` (and the rest) is left.
void expect_rm_cleans_fully(const Engine& e, std::set<std::string> ids) {
  for (const auto& id : e.container_ids()) ids.insert(id);
  for (const auto& id : Engine::split(e.berth({"ps", "-a", "-q"}).out)) {
    auto rm = e.berth({"rm", "-f", id});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
  }
  e.berth({"ps", "-a"});  // finishes the trash of removals that were killed
  EXPECT_TRUE(e2e::eventually([&] { return e.host_traces(ids).empty(); })) << e.host_traces(ids);
}

const std::vector<std::string> kRun = {"run",           "-d",    "--name", "web", "-p", "8099:80",
                                       "localhost/box", "sleep", "100"};

TEST(BerthFaults, AFailedStepOfRunUndoesEveryStepBeforeIt) {
  Engine e;
  for (const std::string step : {"create.files", "start.mount", "start.network", "start.monitor",
                                 "monitor.create", "monitor.start", "start.record"}) {
    expect_clean_failure(with_fault(e, step, kRun), step, 125);
    // A run that fails leaves nothing: no record, and nothing on the host.
    EXPECT_EQ(e.berth({"ps", "-a", "-q"}).out, "") << step;
    EXPECT_TRUE(e2e::eventually([&] { return e.host_traces({}).empty(); }))
        << step << ": " << e.host_traces({});
  }
  // And the same root still works.
  auto run = e.berth(kRun);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_rm_cleans_fully(e, {});
}

TEST(BerthFaults, AFailedStartLeavesACreatedContainerThatStartsLater) {
  Engine e;
  auto create =
      e.berth({"create", "--name", "job", "-p", "8098:80", "localhost/box", "sleep", "100"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  std::string id = Engine::split(create.out).at(0);
  for (const std::string step : {"start.mount", "start.network", "start.monitor", "monitor.create",
                                 "monitor.start", "start.record"}) {
    // start.record fails after the program ran: the monitor, told nothing,
    // kills it and takes everything back (never a hang: berth does not wait
    // for it while holding the lock it needs).
    expect_clean_failure(with_fault(e, step, {"start", "-a", "job"}), step, 1);
    // Only its files: no mount, cgroup, runtime state or network.
    std::string files = "container files: " + e.store("containers/" + id) + "\n";
    EXPECT_TRUE(e2e::eventually([&] { return e.host_traces({id}) == files; }))
        << step << ": " << e.host_traces({id});
    EXPECT_NE(e.berth({"ps", "-a"}).out.find("Created"), std::string::npos) << step;
  }
  auto start = e.berth({"start", "job"});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  EXPECT_NE(e.berth({"ps"}).out.find("Up"), std::string::npos);
  expect_rm_cleans_fully(e, {id});
}

TEST(BerthFaults, AFailedStopOrRmLeavesAContainerThatRmForceRemoves) {
  Engine e;
  auto run = e.berth(kRun);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string id = Engine::split(run.out).at(0);
  expect_clean_failure(with_fault(e, "stop.request", {"stop", "-t", "1", "web"}), "stop.request",
                       1);
  EXPECT_NE(e.berth({"ps"}).out.find("Up"), std::string::npos) << "a failed stop stops nothing";
  for (const std::string step :
       {"release.runtime", "release.mount", "release.network", "rm.files"}) {
    expect_clean_failure(with_fault(e, step, {"rm", "-f", "web"}), step, 1);
    expect_consistent(e);
    EXPECT_NE(e.berth({"ps", "-a"}).out.find("web"), std::string::npos)
        << step << ": the container is still listed, to be removed again";
  }
  expect_rm_cleans_fully(e, {id});
}

// Each command is killed (alone, or with every berth process of the root,
// monitors included, as in a crash) at many moments of its work.
TEST(BerthFaults, SigkillOfEachCommandAtManyMomentsLeavesAConsistentStore) {
  Engine e;
  ASSERT_EQ(e.berth({"create", "--name", "base", "localhost/box", "sleep", "100"}).exit_code, 0);
  std::vector<std::vector<std::string>> commands = {
      {"run", "-d", "-p", "8097:80", "localhost/box", "sleep", "100"},
      {"run", "--rm", "localhost/box", "echo", "hi"},
      {"create", "localhost/box", "true"},
      {"start", "base"},
      {"stop", "-t", "0", "base"},
      {"rm", "-f", "base"},
      {"network", "create", "side"},
  };
  std::set<std::string> ids;
  for (bool whole_engine : {false, true}) {
    for (const auto& args : commands) {
      for (int delay_ms : {0, 2, 5, 10, 20, 40}) {
        if (e.berth({"inspect", "base"}).exit_code != 0)
          e.berth({"create", "--name", "base", "localhost/box", "sleep", "100"});
        e2e::Process cmd(e.command(args));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        if (whole_engine)
          e.kill_engine_processes();
        else
          cmd.signal(SIGKILL);
        cmd.wait(std::chrono::seconds(60));
        for (const auto& id : e.container_ids()) ids.insert(id);
        expect_consistent(e);
        // What no running container holds is taken back by that listing:
        // no root stays mounted for a container that is not running.
        expect_no_idle_root_mounted(e);
        if (args[0] == "network") e.berth({"network", "rm", "side"});
      }
    }
  }
  expect_rm_cleans_fully(e, ids);
}

TEST(BerthFaults, ThirtyRunsRaceThirtyRemovals) {
  Engine e;
  std::vector<std::unique_ptr<e2e::Process>> procs;
  for (int i = 0; i < 30; ++i) {
    std::string name = "c" + std::to_string(i);
    procs.push_back(std::make_unique<e2e::Process>(
        e.command({"run", "-d", "--name", name, "localhost/box", "sleep", "100"})));
    procs.push_back(std::make_unique<e2e::Process>(e.command({"rm", "-f", name})));
  }
  std::set<std::string> ids;
  for (auto& p : procs) {
    auto r = p->wait(std::chrono::seconds(180));
    // A removal before its container exists says so; nothing else may fail.
    if (r.exit_code != 0)
      EXPECT_NE(r.err.find("no such container"), std::string::npos) << r.err;
    else if (r.out.size() > 60)
      ids.insert(r.out.substr(0, 64));
  }
  expect_consistent(e);
  expect_rm_cleans_fully(e, ids);
}

// The restart race: an exit's teardown and the next start are ordered by
// the container's lock and its monitor's, so a start never finds its
// network namespace taken away.
// Removals of one container race for its lock: one removes it, each of
// the others finds it gone ("no such container"), none fails otherwise.
TEST(BerthFaults, RacingRemovalsOfOneContainerRemoveItOnce) {
  Engine e;
  for (int round = 0; round < 5; ++round) {
    auto c = e.berth({"create", "localhost/box", "true"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    std::string id = c.out.substr(0, 64);
    std::vector<std::unique_ptr<e2e::Process>> procs;
    for (int i = 0; i < 8; ++i)
      procs.push_back(std::make_unique<e2e::Process>(e.command({"rm", "-f", id})));
    int removed = 0;
    for (auto& p : procs) {
      auto r = p->wait(std::chrono::seconds(60));
      if (r.exit_code == 0)
        ++removed;
      else
        EXPECT_NE(r.err.find("no such container"), std::string::npos) << r.err;
    }
    EXPECT_EQ(removed, 1);
    expect_rm_cleans_fully(e, {id});
  }
}

TEST(BerthFaults, HundredRoundsOfRunThenStartOnTheBridge) {
  Engine e;
  for (int round = 0; round < 100; ++round) {
    auto run = e.berth({"run", "--name", "xx", "localhost/box", "echo", "hi"});
    ASSERT_EQ(run.exit_code, 0) << "round " << round << ": " << run.err;
    ASSERT_EQ(run.out, "hi\n") << "round " << round;
    auto start = e.berth({"start", "-a", "xx"});
    ASSERT_EQ(start.exit_code, 0) << "round " << round << ": " << start.err;
    ASSERT_EQ(start.out, "hi\n") << "round " << round;
    auto rm = e.berth({"rm", "xx"});
    ASSERT_EQ(rm.exit_code, 0) << "round " << round << ": " << rm.err;
  }
  EXPECT_TRUE(e2e::eventually([&] { return e.host_traces({}).empty(); })) << e.host_traces({});
}

// A berth command in another pid namespace (a container, a CI job) sees
// the monitor's lock as held, though not whose it is: a live container
// stays Up, and nothing of it is taken back.
TEST(BerthFaults, ALiveContainerIsLiveFromAnotherPidNamespace) {
  Engine e;
  auto run = e.berth({"run", "-d", "--name", "far", "localhost/box", "sleep", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> argv = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc"};
  for (auto& a : e.command({"ps", "-a"})) argv.push_back(a);
  auto ps = e2e::Process(argv).wait(std::chrono::seconds(60));
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("Up"), std::string::npos) << ps.out;
  EXPECT_NE(e.berth({"ps"}).out.find("far"), std::string::npos) << "still running here too";
  expect_consistent(e);
  expect_rm_cleans_fully(e, {});
}

// rm -f at any moment of a start: the start's monitor is stopped, never waited for.
TEST(BerthFaults, RmForceRacingAStartNeverHangs) {
  Engine e;
  for (int delay_ms : {0, 5, 10, 15, 20, 25, 30, 40}) {
    ASSERT_EQ(e.berth({"create", "--name", "rr", "localhost/box", "sleep", "1000"}).exit_code, 0);
    e2e::Process start(e.command({"start", "rr"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    auto rm = e2e::Process(e.command({"rm", "-f", "rr"})).wait(std::chrono::seconds(60));
    EXPECT_EQ(rm.exit_code, 0) << delay_ms << " ms: " << rm.err;
    start.wait(std::chrono::seconds(60));
    e.berth({"rm", "-f", "rr"});  // when the start came after the removal
  }
  expect_rm_cleans_fully(e, {});
}

std::string shell_words(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& w : argv) out += "'" + w + "' ";
  return out;
}

// A reader of `berth run`'s output that stops reading holds the container
// back as a pipe does, but never its monitor: stop and rm -f still work.
TEST(BerthFaults, AnAttachedReaderThatStopsReadingHangsNothing) {
  Engine e;
  e2e::Process stuck({"/bin/sh", "-c",
                      shell_words(e.command({"run", "--name", "yes1", "localhost/box", "busybox",
                                             "busybox", "yes"})) +
                          "| sleep 60"});
  EXPECT_TRUE(
      e2e::eventually([&] { return e.berth({"ps"}).out.find("yes1") != std::string::npos; }));
  auto rm = e2e::Process(e.command({"rm", "-f", "yes1"})).wait(std::chrono::seconds(60));
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(e.berth({"ps", "-a", "-q"}).out, "");
  stuck.signal(SIGKILL);
  stuck.wait(std::chrono::seconds(30));
  expect_rm_cleans_fully(e, {});
}

// With -t as without: a reader that goes away ends the attachment (141),
// and the container runs on, logged; it is not deleted.
TEST(BerthFaults, WithATerminalAGoneReaderEndsOnlyTheAttachment) {
  Engine e;
  auto r = e2e::Process({"/bin/bash", "-c",
                         shell_words(e.command(
                             {"run", "-t", "--name", "tty1", "localhost/box", "busybox", "yes"})) +
                             "</dev/null | head -2 >/dev/null; exit ${PIPESTATUS[0]}"})
               .wait(std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 141) << r.err;
  EXPECT_NE(e.berth({"ps"}).out.find("tty1"), std::string::npos) << e.berth({"ps", "-a"}).out;
  expect_rm_cleans_fully(e, {});
}

}  // namespace
