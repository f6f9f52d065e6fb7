// `update` against docker's: the same words given to a private dockerd and
// to berth (side_by_side.h), and the limits each one's container then has
// in the kernel, read from its cgroup on the host (v1 or v2).
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

using bt::SideBySide;

// What the kernel holds for the cgroup of process `pid`, one "name=value"
// each: memory limit, pids limit, CPU quota and weight, cpuset.
std::string cgroup_limits(const std::string& pid) {
  const std::string script = R"sh(p=$1
if grep -q ':memory:' /proc/$p/cgroup; then
  at() { echo /sys/fs/cgroup/$1$(awk -F: -v c="$1" '{n=split($2,a,","); for(i=1;i<=n;i++) if(a[i]==c) print $3}' /proc/$p/cgroup); }
  echo memory=$(cat $(at memory)/memory.limit_in_bytes) pids=$(cat $(at pids)/pids.max) \
    quota=$(cat $(at cpu)/cpu.cfs_quota_us) weight=$(cat $(at cpu)/cpu.shares) \
    cpuset=$(cat $(at cpuset)/cpuset.cpus)
else
  d=/sys/fs/cgroup$(awk -F: '$1=="0"{print $3}' /proc/$p/cgroup)
  echo memory=$(cat $d/memory.max) pids=$(cat $d/pids.max) quota="$(cat $d/cpu.max)" \
    weight=$(cat $d/cpu.weight) cpuset=$(cat $d/cpuset.cpus)
fi)sh";
  auto r = e2e::Process({"/bin/sh", "-c", script, "sh", pid}).wait();
  return r.out;
}

struct Update : SideBySide {
  Update() {
    both_succeed({"run", "-d", "--name", "up", "IMG", "sleep", "1000"});
    both_succeed({"run", "-d", "--name", "other", "IMG", "sleep", "1000"});
  }
  std::string our_limits() {
    return cgroup_limits(bt::first_line(ours({"inspect", "-f", "{{.State.Pid}}", "up"}).out));
  }
  std::string their_limits() {
    return cgroup_limits(bt::first_line(theirs({"inspect", "-f", "{{.State.Pid}}", "up"}).out));
  }
  // Both containers' cgroups hold the same limits, `expected` among them.
  void kernel_holds(const std::string& expected) {
    std::string mine = our_limits(), docker_s = their_limits();
    EXPECT_EQ(mine, docker_s);
    EXPECT_NE(mine.find(expected), std::string::npos) << mine;
  }
};

const std::string kHostConfig =
    "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} "
    "{{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}} {{json .HostConfig.RestartPolicy}}";

TEST(DockerUpdate, LimitsChangeAtOnceAndStayForTheNextStart) {
  Update s;
  // docker 20.10 on cgroup v1 wants --memory-swap with --memory; -1 is
  // berth's own way (swap without a limit apart), so both take it.
  s.same({"update", "--memory", "64m", "--memory-swap", "-1", "--cpus", "0.5", "--cpu-shares",
          "512", "--pids-limit", "100", "--cpuset-cpus", "0", "up"});
  s.same({"inspect", "-f", kHostConfig, "up"});
  s.kernel_holds("memory=67108864 pids=100");
  // The other container is untouched.
  s.same({"inspect", "-f", kHostConfig, "other"});

  // -1: no limit on processes; a restart policy.
  s.same({"update", "--pids-limit", "-1", "--restart", "on-failure:3", "up"});
  s.same({"inspect", "-f", kHostConfig, "up"});
  s.kernel_holds("pids=max");

  // Stopped: the new limit waits for the next start.
  s.both_succeed({"stop", "-t", "0", "up"});
  s.same({"update", "--memory", "80m", "--memory-swap", "-1", "up"});
  s.both_succeed({"start", "up"});
  s.kernel_holds("memory=83886080");

  // Paused: the frozen cgroup takes it too.
  s.same({"pause", "up"});
  s.same({"update", "--memory", "96m", "--memory-swap", "-1", "up"});
  s.same({"unpause", "up"});
  s.kernel_holds("memory=100663296");
  s.same({"inspect", "-f", kHostConfig, "up"});
}

TEST(DockerUpdate, SeveralContainersAndOneMissing) {
  Update s;
  // Each name is printed as given; the missing one is an error, the rest
  // are updated, and the exit status is 1.
  auto theirs = s.theirs({"update", "--cpu-shares", "256", "up", "nosuch", "other"});
  auto ours = s.ours({"update", "--cpu-shares", "256", "up", "nosuch", "other"});
  EXPECT_EQ(theirs.exit_code, 1) << theirs.err;
  EXPECT_EQ(ours.exit_code, 1) << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
  EXPECT_EQ(ours.out, "up\nother\n");
  EXPECT_NE(ours.err.find("nosuch"), std::string::npos) << ours.err;
  s.same({"inspect", "-f", "{{.HostConfig.CpuShares}}", "up", "other"});
}

TEST(DockerUpdate, BadValuesAreRefusedAndChangeNothing) {
  Update s;
  s.refused({"update", "up"}, 1, "at least one flag");
  s.refused({"update", "--memory", "4m", "up"}, 1, "--memory 4194304: must be at least 6 MiB");
  s.refused({"update", "--cpus", "64", "up"}, 1, "--cpus 64: must be from 0.01 to");
  s.refused({"update", "--cpuset-cpus", "64", "up"}, 1, "--cpuset-cpus '64': this host has CPUs");
  s.refused({"update", "--cpu-shares", "1", "up"}, 1, "--cpu-shares 1: must be from 2 to 262144");
  s.refused({"update", "--restart", "sometimes", "up"}, 1, "--restart 'sometimes'");
  // A --rm container keeps "no".
  s.both_succeed({"create", "--rm", "--name", "gone", "IMG", "true"});
  s.refused({"update", "--restart", "always", "gone"}, 1, "removed when it exits (--rm)");
  s.same({"inspect", "-f", kHostConfig, "gone"});
  // Below what the container uses (shared memory it cannot give back):
  // the kernel refuses, and the record keeps the old limit.
  const std::vector<std::string> fill = {
      "run",
      "-d",
      "--name",
      "full",
      "--memory",
      "64m",
      "--memory-swap",
      "-1",
      "IMG",
      "sh",
      "-c",
      "dd if=/dev/zero of=/dev/shm/f bs=1M count=30 2>/dev/null; touch /tmp/full; sleep 1000"};
  s.both_succeed(fill);
  for (int i = 0; i < 200; ++i) {
    if (s.ours({"exec", "full", "test", "-e", "/tmp/full"}).exit_code == 0 &&
        s.theirs({"exec", "full", "test", "-e", "/tmp/full"}).exit_code == 0)
      break;
    ::usleep(50'000);
  }
  s.refused({"update", "--memory", "10m", "--memory-swap", "-1", "full"}, 1, "memory");
  s.same({"inspect", "-f", kHostConfig, "full"});
  // berth's own refusals: what it has no cgroup control for.
  auto ours = s.ours({"update", "--blkio-weight", "300", "up"});
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_NE(ours.err.find("--blkio-weight: block I/O weights are not supported"), std::string::npos)
      << ours.err;
  ours = s.ours({"update", "--memory-swap", "1g", "up"});
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_NE(ours.err.find("only -1 is accepted"), std::string::npos) << ours.err;
  s.same({"inspect", "-f", kHostConfig, "up"});
}

}  // namespace
