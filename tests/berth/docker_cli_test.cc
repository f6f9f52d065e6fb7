// berth's command line against docker's: the same words given to Debian's
// docker.io (a private dockerd with runc, tests/oci/docker_harness.h) and to
// berth, on a busybox image each, and what each did compared: exit status,
// output, and the words of a refusal.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

using e2e::ProcResult;

using bt::first_line;
using bt::SideBySide;
using bt::sorted_lines;

TEST(DockerCli, FlagsEndAtTheImageAndUnknownOnesAreRefusedAsDockerRefusesThem) {
  SideBySide s;
  struct Case {
    std::vector<std::string> words;
    const char* error;  // what both say; nullptr: both succeed with the same output
  };
  for (const Case& c : std::initializer_list<Case>{
           {{"run", "--rm", "--foo", "IMG", "true"}, "unknown flag: --foo"},
           {{"run", "--rm", "-x", "IMG", "true"}, "unknown shorthand flag: 'x' in -x"},
           {{"run", "--rm", "-ix", "IMG", "true"}, "unknown shorthand flag: 'x' in -x"},
           {{"run", "--rm", "--name"}, "flag needs an argument: --name"},
           {{"run", "--rm", "-e"}, "flag needs an argument: 'e' in -e"},
           {{"run", "--rm", "--rm=maybe", "IMG", "true"},
            "invalid argument \"maybe\" for \"--rm\""},
           {{"create", "-d", "IMG", "true"}, "unknown shorthand flag: 'd' in -d"},
           {{"run", "--rm", "--name", "a", "IMG", "true"}, "alid container name"},
           {{"run", "--rm", "-h", "myhost", "IMG", "hostname"}, nullptr},
           {{"run", "--rm", "--hostname=other", "IMG", "hostname"}, nullptr},
           {{"run", "--rm", "IMG", "echo", "--rm", "-h", "--", "x"}, nullptr},
           {{"run", "--rm", "--", "IMG", "echo", "after --"}, nullptr},
           {{"run", "--rm", "-e=A=one", "-eB=two", "-e", "C=three", "IMG", "sh", "-c",
             "echo $A $B $C"},
            nullptr},
           {{"run", "--rm", "-ie", "A=x", "IMG", "sh", "-c", "echo $A"}, nullptr},
           {{"run", "--rm=true", "--read-only=false", "IMG", "sh", "-c", "touch /ok && echo yes"},
            nullptr},
       }) {
    std::string what = ::testing::PrintToString(c.words);
    auto theirs = s.theirs(c.words);
    auto ours = s.ours(c.words);
    if (c.error) {
      EXPECT_EQ(theirs.exit_code, 125) << what << theirs.err;
      EXPECT_NE(theirs.err.find(c.error), std::string::npos) << what << theirs.err;
      EXPECT_EQ(ours.exit_code, 125) << what << ours.err;
      EXPECT_NE(ours.err.find(c.error), std::string::npos) << what << ours.err;
      EXPECT_EQ(ours.err.find('\n'), ours.err.size() - 1) << what << ": one line: " << ours.err;
    } else {
      EXPECT_EQ(theirs.exit_code, 0) << what << theirs.err;
      EXPECT_EQ(ours.exit_code, theirs.exit_code) << what << ours.err;
      EXPECT_EQ(ours.out, theirs.out) << what;
    }
  }
  // --help prints usage and succeeds; -h is the hostname, never help.
  auto help = s.berth.berth({"run", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("-h, --hostname"), std::string::npos) << help.out;
  // Flags docker has and berth does not are refused by name, never misread.
  for (std::vector<std::string> words :
       {std::vector<std::string>{"run", "--gpus", "all", "localhost/box", "true"},
        {"run", "--cidfile", "/tmp/cid", "localhost/box", "true"},
        {"run", "--platform", "linux/s390x", "localhost/box", "true"},
        {"run", "--log-driver", "syslog", "localhost/box", "true"}}) {
    auto r = s.berth.berth(words);
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(first_line(r.err).find("berth run: " + words[1]), 0u) << r.err;
  }
  EXPECT_EQ(s.berth.berth({"ps", "-a", "-q"}).out, "");
}

TEST(DockerCli, RunFlagsShapeTheContainerAsDockersDo) {
  SideBySide s;
  const std::string caps = "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status";
  struct Case {
    std::vector<std::string> flags;
    std::string script;
    bool sort = false;  // the same lines in any order
  };
  for (const Case& c : std::initializer_list<Case>{
           {{}, caps},
           {{"--cap-add", "NET_ADMIN", "--cap-add", "cap_sys_time"}, caps},
           {{"--cap-drop", "chown", "--cap-drop", "CAP_KILL"}, caps},
           {{"--cap-drop", "ALL", "--cap-add", "chown"}, caps},
           {{"--ulimit", "nofile=100:200", "--ulimit", "nproc=50"},
            "ulimit -n; ulimit -Hn; ulimit -u"},
           {{"--group-add", "50", "--group-add", "60"}, "id -G"},
           {{"--add-host", "foo:1.2.3.4", "--add-host", "bar.example:10.0.0.9"},
            "grep -E 'foo|bar' /etc/hosts",
            true},
           {{"--dns", "9.9.9.9", "--dns", "1.0.0.1", "--dns-search", "ex.com", "--dns-option",
             "ndots:2"},
            "cat /etc/resolv.conf",
            true},
           {{"--tmpfs", "/scratch", "--tmpfs", "/big:size=2m,exec"},
            "grep -E ' /(scratch|big) ' /proc/mounts | sed 's/^[^ ]* //'",
            true},
           {{"--shm-size", "3m"}, "grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9a-z]*'"},
           {{"--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=1234"},
            "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"},
           {{"--domainname", "example.org"}, "cat /proc/sys/kernel/domainname"},
           {{"--pid", "host"}, "cat /proc/1/comm"},
           {{"--uts", "host"}, "hostname"},
           {{"--ipc", "host"}, "readlink /proc/self/ns/ipc"},
           {{"--oom-score-adj", "500"}, "cat /proc/self/oom_score_adj"},
           {{"--user", "0:0", "--group-add", "7"}, "id -u; id -G"},
       }) {
    std::vector<std::string> words = {"run", "--rm"};
    words.insert(words.end(), c.flags.begin(), c.flags.end());
    for (const char* w : {"IMG", "sh", "-c"}) words.emplace_back(w);
    words.push_back(c.script);
    std::string what = ::testing::PrintToString(c.flags);
    auto theirs = s.theirs(words);
    auto ours = s.ours(words);
    ASSERT_EQ(theirs.exit_code, 0) << what << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << what << ours.err;
    if (c.sort)
      EXPECT_EQ(sorted_lines(ours.out), sorted_lines(theirs.out)) << what;
    else
      EXPECT_EQ(ours.out, theirs.out) << what;
  }
}

// The CapBnd line of /proc/self/status text, as a number.
uint64_t bounding_set(const std::string& status) {
  auto at = status.find("CapBnd:\t");
  return at == std::string::npos ? 0 : std::stoull(status.substr(at + 8, 16), nullptr, 16);
}

TEST(DockerCli, AllCapabilitiesAreTheOnesTheHostCanGrant) {
  SideBySide s;
  const std::vector<std::string> status = {"cat", "/proc/self/status"};
  // This host withholds CAP_SYS_RESOURCE, so runc fails with ALL unless it
  // is dropped; docker 20.10 knows capabilities up to CAP_AUDIT_READ (37),
  // berth every one the kernel has (PERFMON, BPF, CHECKPOINT_RESTORE too,
  // as docker 23 does).
  std::vector<std::string> all = {"run",   "--rm",       "--cap-add",    "ALL", "--cap-drop",
                                  "mknod", "--cap-drop", "sys_resource", "IMG"};
  all.insert(all.end(), status.begin(), status.end());
  auto theirs = s.theirs(all);
  auto ours = s.ours(all);
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  const uint64_t docker_known = (uint64_t{1} << 38) - 1;
  EXPECT_EQ(bounding_set(ours.out) & docker_known, bounding_set(theirs.out));
  uint64_t host = bounding_set(e2e::read_file("/proc/self/status"));
  const uint64_t mknod = uint64_t{1} << 27;
  EXPECT_EQ(bounding_set(ours.out), host & ~mknod);
  // --privileged: docker's runc fails here (it asks for CAP_SYS_RESOURCE);
  // berth grants what the host has, with the host's devices and a writable /sys.
  std::vector<std::string> privileged = {"run",
                                         "--rm",
                                         "--privileged",
                                         "localhost/box",
                                         "sh",
                                         "-c",
                                         "cat /proc/self/status; test -c /dev/loop-control && "
                                         "echo DEVICES; grep -c ' /sys sysfs rw' /proc/mounts"};
  auto p = s.berth.berth(privileged);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(bounding_set(p.out), host);
  if (::access("/dev/loop-control", F_OK) == 0) {
    EXPECT_NE(p.out.find("DEVICES"), std::string::npos);
  }
  EXPECT_EQ(p.out.substr(p.out.rfind('\n', p.out.size() - 2) + 1), "1\n");
}

}  // namespace

namespace {

TEST(DockerCli, AHostPortIsPublishedOnceAndStopUsesTheStopSignal) {
  SideBySide s;
  std::string port = std::to_string(bt::free_port());
  std::vector<std::string> first = {"run",        "-d",  "--name", "first", "-p",
                                    port + ":80", "IMG", "sleep",  "1000"};
  std::vector<std::string> second = {"run",        "-d",  "--name", "second", "-p",
                                     port + ":81", "IMG", "sleep",  "1000"};
  ASSERT_EQ(s.theirs(first).exit_code, 0);
  ASSERT_EQ(s.ours(first).exit_code, 0);
  auto theirs = s.theirs(second);
  auto ours = s.ours(second);
  EXPECT_EQ(theirs.exit_code, 125) << theirs.err;
  EXPECT_NE(theirs.err.find("port is already allocated"), std::string::npos) << theirs.err;
  EXPECT_EQ(ours.exit_code, 125) << ours.err;
  EXPECT_NE(ours.err.find("already published by container first"), std::string::npos) << ours.err;
  // Once the holder is gone, the port is free again.
  EXPECT_EQ(s.ours({"rm", "-f", "first"}).exit_code, 0);
  std::vector<std::string> third = {"run",        "-d",  "--name", "third", "-p",
                                    port + ":82", "IMG", "sleep",  "1000"};
  auto freed = s.ours(third);
  EXPECT_EQ(freed.exit_code, 0) << freed.err;
  // A holder that died with its monitor (a crash): the port is taken back
  // at the next start that asks for it, with no listing in between.
  auto rec = nlohmann::json::parse(s.ours({"inspect", "third"}).out, nullptr, false);
  ASSERT_TRUE(rec.is_array()) << rec.dump();
  ::kill(rec[0]["Berth"]["MonitorPid"].get<int>(), SIGKILL);
  ::kill(rec[0]["State"]["Pid"].get<int>(), SIGKILL);
  std::vector<std::string> fourth = {"run",        "-d",  "--name", "fourth", "-p",
                                     port + ":83", "IMG", "sleep",  "1000"};
  auto after_crash = s.ours(fourth);
  EXPECT_EQ(after_crash.exit_code, 0) << after_crash.err;
  EXPECT_EQ(s.ours({"rm", "-f", "fourth"}).exit_code, 0);

  // --stop-signal: a shell that traps it says so and exits 3; stop waits for that.
  std::vector<std::string> trapped = {
      "run",
      "-d",
      "--name",
      "trapped",
      "--stop-signal",
      "USR1",
      "--stop-timeout",
      "30",
      "IMG",
      "sh",
      "-c",
      "trap 'echo got USR1; exit 3' USR1; echo ready; while :; do sleep 0.1; done"};
  ASSERT_EQ(s.theirs(trapped).exit_code, 0);
  ASSERT_EQ(s.ours(trapped).exit_code, 0);
  ASSERT_TRUE(dockertest::poll_until([&] {
    return s.ours({"logs", "trapped"}).out.find("ready") != std::string::npos;
  }));
  ASSERT_TRUE(dockertest::poll_until([&] {
    return s.theirs({"logs", "trapped"}).out.find("ready") != std::string::npos;
  }));
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    EXPECT_EQ(engine({"stop", "trapped"}).exit_code, 0) << docker;
    EXPECT_EQ(engine({"wait", "trapped"}).out, "3\n") << docker;
    EXPECT_EQ(engine({"logs", "trapped"}).out, "ready\ngot USR1\n") << docker;
  }
  EXPECT_EQ(s.ours({"rm", "-f", "third", "trapped"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerCli, LongFormsAndSeveralContainersPerCommand) {
  SideBySide s;
  for (const char* name : {"one", "two"}) {
    auto theirs = s.theirs({"run", "-d", "--name", name, "IMG", "sleep", "1000"});
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    auto ours = s.ours({"run", "-d", "--name", name, "IMG", "sleep", "1000"});
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
  }
  for (std::vector<std::string> words : {
           std::vector<std::string>{"container", "ls", "--format", "{{.Names}} {{.Image}}"},
           {"kill", "one", "two"},
           {"wait", "one", "two"},
           // State, not Status: "Exited (137) 1 second ago" and "... Less than a
           // second ago" differ by when each engine was asked.
           {"container", "ls", "-a", "--format", "{{.Names}} {{.State}}"},
           {"start", "one", "two"},
           {"container", "kill", "-s", "KILL", "one", "two"},
           {"container", "wait", "one", "two"},
           {"container", "rm", "one", "two"},
           {"container", "prune", "-f"},
           {"image", "prune", "-f"},
           {"image", "ls", "-q"},
       }) {
    auto theirs = s.theirs(words);
    auto ours = s.ours(words);
    std::string what = ::testing::PrintToString(words);
    EXPECT_EQ(theirs.exit_code, 0) << what << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << what << ours.err;
    if (words[1] == "ls" && words.back() != "-q") {
      // Each names its own image; the rows are the same otherwise.
      std::string mine = ours.out, image = "localhost/box";
      for (size_t at; (at = mine.find(image)) != std::string::npos;)
        mine.replace(at, image.size(), dockertest::kImage);
      EXPECT_EQ(sorted_lines(mine), sorted_lines(theirs.out)) << what;
    } else if (words[1] != "prune" && words[1] != "ls") {
      EXPECT_EQ(ours.out, theirs.out) << what;
    }
  }
  // docker 23's --format json (20.10 prints the word): one object per line.
  auto networks = s.ours({"network", "ls", "--format", "json"});
  ASSERT_EQ(networks.exit_code, 0) << networks.err;
  auto row = nlohmann::json::parse(first_line(networks.out), nullptr, false);
  ASSERT_TRUE(row.is_object()) << networks.out;
  EXPECT_EQ(row["Name"], "berth0");
}

}  // namespace

namespace {

// The keys of `theirs` that `ours` lacks, as "path.key" words.
std::string missing_keys(const nlohmann::json& theirs, const nlohmann::json& ours,
                         const std::string& path) {
  std::string out;
  for (const auto& [k, v] : theirs.items())
    if (!ours.is_object() || !ours.contains(k)) out += " " + path + k;
  return out;
}

TEST(DockerCli, InspectHasDockersSchemaAndItsTemplatesReadTheSame) {
  SideBySide s;
  e2e::TempDir shared;
  std::string port = std::to_string(bt::free_port());
  std::vector<std::string> run = {
      "run",       "-d",           "--name",    "web",       "-p",    port + ":80",
      "-l",        "k=v",          "-e",        "X=1",       "-v",    shared.path() + ":/host:ro",
      "--restart", "on-failure:3", "--cap-add", "NET_ADMIN", "--dns", "9.9.9.9",
      "-w",        "/tmp",         "IMG",       "sleep",     "1000"};
  auto theirs_run = s.theirs(run);
  ASSERT_EQ(theirs_run.exit_code, 0) << theirs_run.err;
  auto ours_run = s.ours(run);
  ASSERT_EQ(ours_run.exit_code, 0) << ours_run.err;

  auto whole_theirs = nlohmann::json::parse(s.theirs({"inspect", "web"}).out, nullptr, false);
  auto whole_ours = nlohmann::json::parse(s.ours({"inspect", "web"}).out, nullptr, false);
  ASSERT_TRUE(whole_ours.is_array() && whole_ours.size() == 1) << whole_ours.dump();
  ASSERT_TRUE(whole_theirs.is_array() && whole_theirs.size() == 1);
  const auto &t = whole_theirs[0], &o = whole_ours[0];
  std::string missing =
      missing_keys(t, o, "") + missing_keys(t["State"], o["State"], "State.") +
      missing_keys(t["Config"], o["Config"], "Config.") +
      missing_keys(t["NetworkSettings"], o["NetworkSettings"], "NetworkSettings.") +
      missing_keys(t["NetworkSettings"]["Networks"]["bridge"],
                   o["NetworkSettings"]["Networks"]["bridge"], "Networks.bridge.");
  EXPECT_EQ(missing, "");

  for (const char* format : {
           "{{.State.Status}} {{.State.Running}} {{.State.Paused}} {{.State.ExitCode}} "
           "{{.State.OOMKilled}} {{.State.Dead}} {{.State.Restarting}}",
           "{{.Name}} {{.Config.Cmd}} {{.Path}} {{.Args}}",
           "{{range .Config.Env}}{{if eq . \"X=1\"}}found{{end}}{{end}}",
           "{{index .Config.Labels \"k\"}} {{json .Config.Labels}}",
           "{{json .HostConfig.PortBindings}}",
           "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}",
           "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
           "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}} {{.Mode}}{{end}}",
           "{{.HostConfig.CapAdd}} {{.HostConfig.Dns}} {{.HostConfig.Privileged}} "
           "{{.HostConfig.AutoRemove}} {{.HostConfig.ReadonlyRootfs}}",
           "{{with .NetworkSettings}}{{if .IPAddress}}has-ip {{end}}{{.IPPrefixLen}}{{end}}",
           "{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{if $n.IPAddress}}ip{{end}}"
           "{{end}}",
           "{{len .Id}} {{printf \"%.12s\" .Id | len}} {{.Config.Hostname | len}}",
           "{{.Config.Tty}} {{.Config.OpenStdin}} {{.Config.WorkingDir}} {{.Config.AttachStdout}}",
           "{{if and .State.Running (not .State.Paused)}}up{{else}}down{{end}}",
       }) {
    auto theirs = s.theirs({"inspect", "-f", format, "web"});
    auto ours = s.ours({"inspect", "-f", format, "web"});
    EXPECT_EQ(theirs.exit_code, 0) << format << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << format << ours.err;
    EXPECT_EQ(ours.out, theirs.out) << format;
  }
  // Once killed: the state docker shows, and two names at once.
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    ASSERT_EQ(engine({"kill", "web"}).exit_code, 0);
    ASSERT_EQ(engine({"wait", "web"}).out, "137\n");
  }
  auto theirs = s.theirs(
      {"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", "web", "web"});
  auto ours = s.ours(
      {"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", "web", "web"});
  EXPECT_EQ(ours.out, theirs.out);
  // A name that is neither: the others are shown, and the exit status is 1.
  theirs = s.theirs({"inspect", "-f", "{{.Name}}", "web", "nosuch"});
  ours = s.ours({"inspect", "-f", "{{.Name}}", "web", "nosuch"});
  EXPECT_EQ(theirs.exit_code, 1);
  EXPECT_EQ(ours.exit_code, 1);
  EXPECT_EQ(ours.out, theirs.out);
  EXPECT_NE(ours.err.find("no such object: nosuch"), std::string::npos) << ours.err;
  EXPECT_EQ(s.ours({"rm", "web"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerCli, HostileRunValuesAreRefusedByName) {
  bt::Engine e;
  struct Case {
    std::vector<std::string> flags;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {{"-h", "x\n10.6.6.6 registry-1.docker.io"}, "not a valid host name"},
           {{"--domainname", "a b"}, "not a valid host name"},
           {{"-h", std::string(65, 'a')}, "not a valid host name"},
           {{"--add-host", "a:b"}, "--add-host 'a:b': must be HOST:IP"},
           {{"--add-host", "a\vevil.com:1.2.3.4"}, "must be HOST:IP"},
           {{"--add-host", "gw:host-gateway", "--network", "none"}, "needs a bridge network"},
           {{"--dns", "foo"}, "--dns 'foo': not an IP address"},
           {{"--tmpfs", "/x:rbind"}, "option 'rbind' is not one a tmpfs takes"},
           {{"--tmpfs", "/x:size=1m,shared"}, "option 'shared'"},
           {{"--tmpfs", "/a/../b"}, "without '..'"},
           {{"--device", "/dev/null:/dev/../x"}, "--device '/dev/null:/dev/../x'"},
           {{"--device", "/etc/passwd"}, "is not a device on this host"},
           {{"--sysctl", "net/ipv4/ip_forward=1"}, "write the name with dots"},
           {{"--sysctl", "vm.swappiness=1"}, "not allowed"},
           {{"--cpuset-cpus", ",-,"}, "must be a list such as 0-3,5"},
           {{"--ulimit", "nofile=10:5"}, "soft limit is above the hard limit"},
           {{"--cap-add", "NOT_A_CAP"}, "unknown capability"},
           {{"-p", "18200:80", "-p", "18200:81"}, "host port 18200/tcp is published twice"},
           {{"--ipc", "host", "--shm-size", "1m"}, "--shm-size"},
           {{"--stop-signal", "NOPE"}, "--stop-signal"},
       }) {
    std::vector<std::string> words = {"run", "--rm"};
    words.insert(words.end(), c.flags.begin(), c.flags.end());
    for (const char* w : {"localhost/box", "true"}) words.emplace_back(w);
    auto r = e.berth(words);
    std::string what = ::testing::PrintToString(c.flags);
    EXPECT_EQ(r.exit_code, 125) << what << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << what << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << r.err;
  }
  EXPECT_EQ(e.berth({"ps", "-a", "-q"}).out, "") << "nothing was left behind";
}

TEST(DockerCli, MountsStackAsDockersAndHostGatewayIsTheBridge) {
  SideBySide s;
  e2e::TempDir data;
  // A tmpfs on a parent never hides a volume below it, whatever the order given.
  std::vector<std::string> words = {"run",     "--rm",
                                    "-v",      data.path() + ":/data/db",
                                    "--tmpfs", "/data",
                                    "IMG",     "sh",
                                    "-c",      "echo kept > /data/db/file && ls /data"};
  auto theirs = s.theirs(words);
  auto ours = s.ours(words);
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  EXPECT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
  EXPECT_EQ(e2e::read_file(data / "file"), "kept\n");
  // host-gateway: the bridge's own address.
  auto gw = s.ours({"run", "--rm", "--add-host", "gw:host-gateway", "IMG", "sh", "-c",
                    "grep -w gw /etc/hosts | cut -f1; ip route | grep default | cut -d' ' -f3"});
  ASSERT_EQ(gw.exit_code, 0) << gw.err;
  auto lines = bt::Engine::split(gw.out);
  ASSERT_EQ(lines.size(), 2u) << gw.out;
  EXPECT_EQ(lines[0], lines[1]);
  // --ipc host: the host's /dev/shm, as docker gives it.
  std::string marker = "berth-ipc-" + std::to_string(::getpid());
  e2e::write_file("/dev/shm/" + marker, "x");
  auto shm = s.ours({"run", "--rm", "--ipc", "host", "IMG", "ls", "/dev/shm/" + marker});
  ::unlink(("/dev/shm/" + marker).c_str());
  EXPECT_EQ(shm.exit_code, 0) << shm.err;
  // `image inspect` looks at images only, though a container has the name.
  ASSERT_EQ(s.ours({"create", "--name", "box", "IMG", "true"}).exit_code, 0);
  EXPECT_EQ(s.ours({"image", "inspect", "-f", "{{.RepoTags}}", "localhost/box"}).out,
            "[localhost/box:latest]\n");
  EXPECT_EQ(s.ours({"container", "inspect", "-f", "{{.Name}}", "box"}).out, "/box\n");
  EXPECT_NE(s.ours({"image", "inspect", "box"}).exit_code, 0);
  EXPECT_EQ(s.ours({"rm", "box"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerCli, PauseUnpauseRenameAndRestart) {
  SideBySide s;
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    const char* who = docker ? "docker" : "berth";
    ASSERT_EQ(engine({"run", "-d", "--name", "life", "IMG", "sleep", "1000"}).exit_code, 0) << who;
    EXPECT_EQ(engine({"pause", "life"}).out, "life\n") << who;
    EXPECT_EQ(
        engine({"inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "life"})
            .out,
        "paused true true\n")
        << who;
    EXPECT_NE(engine({"ps", "--format", "{{.Status}}"}).out.find("(Paused)"), std::string::npos)
        << who;
    EXPECT_EQ(engine({"pause", "life"}).exit_code, 1) << who << ": already paused";
    EXPECT_EQ(engine({"unpause", "life"}).out, "life\n") << who;
    EXPECT_EQ(engine({"unpause", "life"}).exit_code, 1) << who << ": not paused";
    auto renamed = engine({"rename", "life", "life2"});
    EXPECT_EQ(renamed.exit_code, 0) << who << renamed.err;
    EXPECT_EQ(renamed.out, "") << who;
    EXPECT_EQ(engine({"inspect", "-f", "{{.Name}}", "life2"}).out, "/life2\n") << who;
    EXPECT_NE(engine({"inspect", "life"}).exit_code, 0) << who;
    EXPECT_EQ(engine({"restart", "-t", "0", "life2"}).out, "life2\n") << who;
    EXPECT_EQ(engine({"inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "life2"}).out,
              "running 0\n")
        << who;
    EXPECT_EQ(engine({"rm", "-f", "life2"}).exit_code, 0) << who;
  }
  ASSERT_EQ(s.ours({"run", "-d", "--name", "one", "IMG", "sleep", "1000"}).exit_code, 0);
  ASSERT_EQ(s.ours({"create", "--name", "two", "IMG", "true"}).exit_code, 0);
  auto taken = s.ours({"rename", "two", "one"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("the name 'one' is already in use"), std::string::npos) << taken.err;
  EXPECT_NE(s.ours({"rename", "two", "bad name"}).exit_code, 0);
  EXPECT_NE(s.ours({"pause", "two"}).exit_code, 0) << "not running";
  EXPECT_EQ(s.ours({"rm", "-f", "one", "two"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerCli, PsFiltersLastAndLatest) {
  SideBySide s;
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    ASSERT_EQ(
        engine({"run", "-d", "--name", "f1", "-l", "tier=web", "IMG", "sleep", "1000"}).exit_code,
        0);
    ASSERT_EQ(engine({"run", "--name", "f2", "-l", "tier=db", "IMG", "true"}).exit_code, 0);
    ASSERT_EQ(engine({"run", "--name", "f3", "IMG", "sh", "-c", "exit 3"}).exit_code, 3);
  }
  for (std::vector<std::string> words : {
           std::vector<std::string>{"ps", "-a", "--filter", "status=exited"},
           {"ps", "--filter", "status=exited"},
           {"ps", "-a", "-f", "label=tier"},
           {"ps", "-a", "-f", "label=tier=web"},
           {"ps", "-a", "-f", "exited=3"},
           {"ps", "-a", "-f", "name=f", "-f", "status=running"},
           {"ps", "-a", "-f", "name=f2", "-f", "name=f3"},
           {"ps", "-n", "2"},
           {"ps", "-l"},
           {"ps", "-a", "-q", "-f", "status=created"},
           {"ps", "-a", "-f", "before=f3"},
           {"ps", "-a", "-f", "since=f1"},
           {"ps", "-f", "since=f1"},  // running ones only, without -a
           {"ps", "-a", "-f", "since=f1", "-f", "before=f3"},
       }) {
    words.insert(words.end(), {"--format", "{{.Names}} {{.State}}"});  // Status has times
    auto theirs = s.theirs(words);
    auto ours = s.ours(words);
    std::string what = ::testing::PrintToString(words);
    EXPECT_EQ(theirs.exit_code, 0) << what << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << what << ours.err;
    EXPECT_EQ(ours.out, theirs.out) << what;
  }
  auto bad_theirs = s.theirs({"ps", "-f", "bogus=1"});
  auto bad_ours = s.ours({"ps", "-f", "bogus=1"});
  EXPECT_NE(bad_theirs.exit_code, 0);
  EXPECT_NE(bad_ours.exit_code, 0);
  EXPECT_NE(bad_ours.err.find("invalid filter 'bogus'"), std::string::npos) << bad_ours.err;
  auto missing_theirs = s.theirs({"ps", "-a", "-f", "since=nosuch"});
  auto missing_ours = s.ours({"ps", "-a", "-f", "since=nosuch"});
  EXPECT_EQ(missing_theirs.exit_code, 1);
  EXPECT_EQ(missing_ours.exit_code, 1);
  EXPECT_NE(missing_ours.err.find("since=nosuch"), std::string::npos) << missing_ours.err;
  auto ancestor = s.ours({"ps", "-a", "-q", "-f", "ancestor=localhost/box"});
  EXPECT_EQ(bt::Engine::split(ancestor.out).size(), 3u) << ancestor.out;
  EXPECT_EQ(s.ours({"ps", "-a", "-q", "-f", "ancestor=localhost/other"}).out, "");
  auto full = s.ours({"ps", "-l", "--no-trunc", "--format", "{{.ID}} {{.Command}}"});
  EXPECT_EQ(full.out.find(' '), 64u) << full.out;
  EXPECT_NE(full.out.find("\"sh -c 'exit 3'\""), std::string::npos) << full.out;
  EXPECT_EQ(s.ours({"rm", "-f", "f1", "f2", "f3"}).exit_code, 0);
}

// ps's COMMAND as docker writes it (a word holding a space quoted, cut at 20
// characters with "…", Go-quoted), and -s: what the container wrote, each
// inode once, directories not counted.
TEST(DockerCli, PsShowsCommandsAndSizesAsDockers) {
  SideBySide s;
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    ASSERT_EQ(engine({"create", "--name", "q1", "IMG", "echo", "a'b c", "t\tx", "\xc3\xa4 \xc3\xb6",
                      "x\\y", "$z", ""})
                  .exit_code,
              0);
    ASSERT_EQ(engine({"create", "--name", "q2", "IMG", "echo",
                      "\xc3\xa9"
                      "123456789012345678"})
                  .exit_code,
              0);
    ASSERT_EQ(engine({"run", "--name", "q3", "IMG", "sh", "-c",
                      "head -c 5000 /dev/zero >/f; ln /f /g; mkdir -p /d/e; "
                      "head -c 1200 /dev/zero >/d/e/h"})
                  .exit_code,
              0);
  }
  for (std::vector<std::string> words : {
           std::vector<std::string>{"ps", "-a", "--format", "{{.Command}}|{{.Names}}"},
           {"ps", "-a", "--no-trunc", "--format", "{{.Command}}|{{.Names}}"},
           {"ps", "-a", "--format", "{{printf \"%q\" .Names}}"},
       })
    s.same(words);
  // SIZE: the written part is the same; the virtual part adds each engine's
  // image, whose size each counts its own way.
  auto written = [](const std::string& out) {
    std::string kept;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) kept += line.substr(0, line.find(" (")) + "\n";
    return kept;
  };
  auto theirs = s.theirs({"ps", "-a", "--format", "{{.Names}} {{.Size}}"});
  auto ours = s.ours({"ps", "-a", "--format", "{{.Names}} {{.Size}}"});
  EXPECT_EQ(written(ours.out), written(theirs.out));
  EXPECT_EQ(written(ours.out), "q3 6.2kB\nq2 0B\nq1 0B\n");
  EXPECT_NE(ours.out.find("q3 6.2kB (virtual "), std::string::npos) << ours.out;
  auto table_theirs = s.theirs({"ps", "-a", "-s"});
  auto table_ours = s.ours({"ps", "-a", "-s"});
  // The image column's width differs (each engine's image has its own name).
  EXPECT_EQ(bt::Engine::split(bt::first_line(table_ours.out)),
            bt::Engine::split(bt::first_line(table_theirs.out)));
  EXPECT_NE(table_ours.out.find("q3        6.2kB (virtual "), std::string::npos) << table_ours.out;
  EXPECT_EQ(s.ours({"rm", "-f", "q1", "q2", "q3"}).exit_code, 0);
}

}  // namespace

namespace {

// --init: an init of the engine's own as pid 1 (docker's is tini, berth's
// berth-init): a shell that ignores SIGTERM as pid 1 now stops at once.
TEST(DockerCli, InitPassesSignalsOnAndReapsOrphans) {
  SideBySide s;
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    const char* who = docker ? "docker" : "berth";
    auto status = engine({"run", "--rm", "--init", "IMG", "sh", "-c", "exit 5"});
    EXPECT_EQ(status.exit_code, 5) << who << status.err;
    // pid 1 is the init, the program its child.
    auto ps = engine({"run", "--rm", "--init", "IMG", "sh", "-c",
                      "cat /proc/1/comm; [ $$ != 1 ] && echo child"});
    EXPECT_EQ(ps.out, std::string(docker ? "docker-init" : "berth-init") + "\nchild\n") << who;
    // SIGTERM reaches the shell (pid 1 would ignore it): stop ends it with 143 at once.
    ASSERT_EQ(engine({"run", "-d", "--name", "inited", "--init", "--stop-timeout", "600", "IMG",
                      "sh", "-c", "echo up; sleep 1000"})
                  .exit_code,
              0)
        << who;
    ASSERT_TRUE(dockertest::poll_until([&] {
      return engine({"logs", "inited"}).out.find("up") != std::string::npos;
    }));
    EXPECT_EQ(engine({"stop", "inited"}).exit_code, 0) << who;
    EXPECT_EQ(engine({"wait", "inited"}).out, "143\n") << who;
    // An orphan whose parent exits is reaped: no zombie stays.
    auto zombies = engine({"run", "--rm", "--init", "IMG", "sh", "-c",
                           "sh -c 'sleep 0.2 &'; sleep 1; grep -l '^State:.*Z' /proc/[0-9]*/status "
                           "| wc -l"});
    EXPECT_EQ(zombies.out, "0\n") << who << zombies.err;
    EXPECT_EQ(engine({"rm", "inited"}).exit_code, 0) << who;
  }
  ASSERT_EQ(s.ours({"run", "--init", "--name", "seen", "IMG", "true"}).exit_code, 0);
  EXPECT_EQ(s.ours({"inspect", "-f", "{{.HostConfig.Init}} {{.Path}}", "seen"}).out,
            "true /sbin/berth-init\n");
  EXPECT_EQ(s.ours({"rm", "seen"}).exit_code, 0);
}

}  // namespace

namespace {

// The words of a table's header line (columns are two or more spaces apart).
std::vector<std::string> header_words(const std::string& out) {
  std::string line = out.substr(0, out.find('\n'));
  std::vector<std::string> words;
  size_t start = 0;
  while (start < line.size()) {
    size_t gap = line.find("  ", start);
    words.push_back(line.substr(start, gap == std::string::npos ? gap : gap - start));
    if (gap == std::string::npos) break;
    start = line.find_first_not_of(' ', gap);
  }
  return words;
}

TEST(DockerCli, StatsShowDockersColumnsFromTheCgroup) {
  SideBySide s;
  for (bool docker : {true, false}) {
    auto engine = [&](const std::vector<std::string>& w) {
      return docker ? s.theirs(w) : s.ours(w);
    };
    ASSERT_EQ(engine({"run", "-d", "--name", "busy", "-m", "64m", "IMG", "sh", "-c",
                      "sleep 1000 & while :; do :; done"})
                  .exit_code,
              0);
  }
  auto theirs = s.theirs({"stats", "--no-stream"});
  auto ours = s.ours({"stats", "--no-stream"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(header_words(ours.out), header_words(theirs.out)) << ours.out << theirs.out;
  const std::string format = "{{.Name}} {{.PIDs}} {{.MemUsage}}";
  auto theirs_row = s.theirs({"stats", "--no-stream", "--format", format, "busy"});
  auto ours_row = s.ours({"container", "stats", "--no-stream", "--format", format, "busy"});
  // Two processes, and the 64 MiB limit, on both.
  EXPECT_NE(theirs_row.out.find("busy 2 "), std::string::npos) << theirs_row.out;
  EXPECT_NE(ours_row.out.find("busy 2 "), std::string::npos) << ours_row.out;
  EXPECT_NE(ours_row.out.find(" / 64MiB\n"), std::string::npos) << ours_row.out;
  EXPECT_NE(theirs_row.out.find(" / 64MiB\n"), std::string::npos) << theirs_row.out;
  // A spinning shell uses CPU (however busy the machine, some), at most 2 CPUs' worth.
  auto cpu = s.ours({"stats", "--no-stream", "--format", "{{.CPUPerc}}", "busy"});
  double percent = std::atof(cpu.out.c_str());
  EXPECT_GT(percent, 0.5) << cpu.out;
  EXPECT_LE(percent, 201.0) << cpu.out;
  EXPECT_EQ(s.ours({"rm", "-f", "busy"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerCli, VersionInfoDfAndSystemPrune) {
  SideBySide s;
  auto same = [&](const std::vector<std::string>& words) {
    auto theirs = s.theirs(words), ours = s.ours(words);
    EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << ours.err;
    EXPECT_EQ(ours.out, theirs.out) << ::testing::PrintToString(words);
  };
  same({"version", "-f", "{{.Server.Os}} {{.Server.Arch}} {{.Client.Os}}"});
  for (const char* name : {"stopped-a", "stopped-b"}) same({"run", "--name", name, "IMG", "true"});
  same({"info", "-f",
        "{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}} {{.Images}} {{.OSType}} "
        "{{.Architecture}} {{.NCPU}} {{.CgroupVersion}} {{.KernelVersion}}"});
  same({"system", "info", "-f", "{{.OperatingSystem}} {{.MemTotal}}"});
  same({"system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"});
  EXPECT_EQ(first_line(s.ours({"system", "df"}).out), first_line(s.theirs({"system", "df"}).out));
  // Prune: the stopped containers go; images a container used stay dangling-free.
  for (auto side : {&SideBySide::ours, &SideBySide::theirs}) {
    auto r = (s.*side)({"system", "prune", "-f"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Deleted Containers:\n", 0), 0u) << r.out;
  }
  same({"ps", "-aq"});
  // images: --format wins over -q; filters; docker's columns.
  same({"images", "-q", "--format", "{{.Tag}}"});
  same({"images", "--filter", "dangling=false", "--filter", "reference=localhost/b*", "--format",
        "{{.Tag}} {{.Digest}} {{.Containers}}"});
  same({"images", "--filter", "reference=nothing-here*", "-q"});
  same({"images", "--filter", "dangling=true", "-q"});
  same({"images", "-a", "--filter", "dangling=false", "--format", "{{.Tag}} {{.Containers}}"});
  auto header = [](const std::string& out) {
    std::istringstream in(first_line(out));
    std::string words, w;
    while (in >> w) words += w + " ";
    return words;
  };
  EXPECT_EQ(header(s.ours({"images"}).out), header(s.theirs({"images"}).out));
  auto bad = s.ours({"images", "--filter", "color=red"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("no such filter"), std::string::npos) << bad.err;
}

}  // namespace

namespace {

TEST(DockerCli, ExposeLogsSinceUntilAndDetachedExec) {
  SideBySide s;
  auto same = [&](const std::vector<std::string>& words, int exit = 0) {
    auto theirs = s.theirs(words), ours = s.ours(words);
    EXPECT_EQ(theirs.exit_code, exit) << ::testing::PrintToString(words) << theirs.err;
    EXPECT_EQ(ours.exit_code, exit) << ::testing::PrintToString(words) << ours.err;
    if (exit == 0) {
      EXPECT_EQ(ours.out, theirs.out) << ::testing::PrintToString(words);
    }
  };
  auto both_ok = [&](const std::vector<std::string>& words) {
    EXPECT_EQ(s.theirs(words).exit_code, 0) << ::testing::PrintToString(words);
    EXPECT_EQ(s.ours(words).exit_code, 0) << ::testing::PrintToString(words);
  };
  both_ok({"run", "-d", "--name", "ex", "--expose", "8080", "--expose", "9000-9001/udp", "IMG",
           "sleep", "60"});
  same({"inspect", "-f", "{{json .Config.ExposedPorts}}", "ex"});
  std::string host_port = std::to_string(bt::free_port());
  both_ok(
      {"run", "-d", "--name", "pub", "-p", "127.0.0.1:" + host_port + ":80", "IMG", "sleep", "60"});
  same({"ps", "-a", "--filter", "expose=8080", "--format", "{{.Names}}"});
  same({"ps", "-a", "--filter", "expose=9001/udp", "--format", "{{.Names}}"});
  same({"ps", "-a", "--filter", "publish=" + host_port, "--format", "{{.Names}}"});
  same({"ps", "-a", "--filter", "publish=80", "--format", "{{.Names}}"});
  same({"ps", "-a", "--filter", "expose=80", "--format", "{{.Names}}"});
  same({"run", "--rm", "--expose", "http", "IMG", "true"}, 125);
  // logs --since/--until: times, dates and durations, either side of the lines.
  same({"run", "--name", "lg", "IMG", "sh", "-c", "echo one; echo two >&2; echo three"});
  for (const std::vector<std::string>& range :
       {std::vector<std::string>{"--since", "2000-01-01T00:00:00Z"},
        {"--until", "2000-01-01T00:00:00Z"},
        {"--since", "1h"},
        {"--until", "1h"},
        {"--since", "946684800"},
        {"--since", "2000-01-01"}}) {
    std::vector<std::string> words = {"logs"};
    words.insert(words.end(), range.begin(), range.end());
    words.push_back("lg");
    same(words);
  }
  auto bad = s.ours({"logs", "--since", "yesterday", "lg"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--since 'yesterday': not a time"), std::string::npos) << bad.err;
  // exec -d runs on in the background; --env-file as run's.
  both_ok({"run", "-d", "--name", "ed", "IMG", "sleep", "60"});
  both_ok({"exec", "-d", "ed", "sh", "-c", "echo detached > /tmp/x"});
  for (auto side : {&SideBySide::ours, &SideBySide::theirs})
    EXPECT_TRUE(e2e::eventually([&] {
      return (s.*side)({"exec", "ed", "cat", "/tmp/x"}).out == "detached\n";
    }));
  e2e::TempDir dir;
  e2e::write_file(dir.path() + "/env", "# a comment\nA=from-file\nB=b\n");
  same({"exec", "--env-file", dir.path() + "/env", "-e", "B=flag", "ed", "sh", "-c", "echo $A $B"});
  same({"exec", "-d", "nope", "true"}, 1);
  both_ok({"rm", "-f", "ed", "ex", "pub"});
}

}  // namespace

namespace {

TEST(DockerCli, HealthChecksTurnHealthyOrUnhealthyAsDockersDo) {
  SideBySide s;
  auto both_ok = [&](const std::vector<std::string>& words) {
    auto theirs = s.theirs(words), ours = s.ours(words);
    EXPECT_EQ(theirs.exit_code, 0) << ::testing::PrintToString(words) << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << ::testing::PrintToString(words) << ours.err;
  };
  auto same = [&](const std::vector<std::string>& words) {
    auto theirs = s.theirs(words), ours = s.ours(words);
    EXPECT_EQ(ours.out, theirs.out) << ::testing::PrintToString(words);
  };
  both_ok({"run", "-d", "--name", "good", "--health-cmd", "test -f /ready", "--health-interval",
           "300ms", "--health-retries", "2", "IMG", "sh", "-c", "sleep 1; touch /ready; sleep 60"});
  both_ok({"run", "-d", "--name", "bad", "--health-cmd", "echo nope; exit 3", "--health-interval",
           "200ms", "--health-retries", "2", "IMG", "sleep", "60"});
  same({"inspect", "-f", "{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}", "bad"});
  // The same nanoseconds in JSON; docker's template shows a Go duration ("200ms").
  EXPECT_EQ(s.ours({"inspect", "-f", "{{json .Config.Healthcheck.Interval}}", "bad"}).out,
            s.theirs({"inspect", "-f", "{{json .Config.Healthcheck.Interval}}", "bad"}).out);
  for (auto side : {&SideBySide::ours, &SideBySide::theirs}) {
    auto status = [&](const char* name) {
      return (s.*side)({"inspect", "-f", "{{.State.Health.Status}}", name}).out;
    };
    EXPECT_TRUE(e2e::eventually([&] { return status("good") == "healthy\n"; },
                                std::chrono::seconds(30), std::chrono::milliseconds(100)));
    EXPECT_TRUE(e2e::eventually([&] { return status("bad") == "unhealthy\n"; },
                                std::chrono::seconds(30), std::chrono::milliseconds(100)));
    auto ps = (s.*side)({"ps", "--format", "{{.Names}}: {{.Status}}"}).out;
    EXPECT_NE(ps.find("good: Up"), std::string::npos) << ps;
    EXPECT_NE(ps.find(" (healthy)\n"), std::string::npos) << ps;
    EXPECT_NE(ps.find("(unhealthy)"), std::string::npos) << ps;
  }
  same({"inspect", "-f",
        "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "bad"});
  for (const char* health : {"healthy", "unhealthy", "none"})
    same({"ps", "--filter", std::string("health=") + health, "--format", "{{.Names}}"});
  auto theirs = s.theirs({"run", "--rm", "--health-interval", "soon", "IMG", "true"});
  auto ours = s.ours({"run", "--rm", "--health-interval", "soon", "IMG", "true"});
  EXPECT_EQ(theirs.exit_code, 125);
  EXPECT_EQ(ours.exit_code, 125);
  EXPECT_NE(ours.err.find("--health-interval 'soon'"), std::string::npos) << ours.err;
  both_ok({"rm", "-f", "good", "bad"});
}

}  // namespace

namespace {

TEST(DockerCli, EventsReplayWhatHappenedAsDockersDo) {
  SideBySide s;
  for (auto side : {&SideBySide::ours, &SideBySide::theirs}) {
    for (const std::vector<std::string>& words :
         {std::vector<std::string>{"run", "-d", "--name", "ev", "IMG", "true"},
          {"volume", "create", "vv"},
          {"volume", "rm", "vv"}})
      EXPECT_EQ((s.*side)(words).exit_code, 0) << ::testing::PrintToString(words);
    EXPECT_TRUE(e2e::eventually(
        [&] {
          return (s.*side)({"inspect", "-f", "{{.State.Status}}", "ev"}).out == "exited\n";
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)));
    EXPECT_EQ((s.*side)({"rm", "ev"}).exit_code, 0);
  }
  auto same = [&](const std::vector<std::string>& words) {
    auto theirs = s.theirs(words), ours = s.ours(words);
    EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
    EXPECT_EQ(ours.exit_code, 0) << ours.err;
    EXPECT_EQ(ours.out, theirs.out) << ::testing::PrintToString(words);
  };
  // docker's --until counts whole seconds: a time just ahead, which both wait for.
  std::string until = std::to_string(std::time(nullptr) + 2);
  same({"events", "--since", "5m", "--until", until, "--filter", "container=ev", "--filter",
        "type=container", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"});
  same({"events", "--since", "5m", "--until", until, "--filter", "type=volume", "--format",
        "{{.Type}} {{.Action}} {{.Actor.ID}}"});
  same({"events", "--since", "5m", "--until", until, "--filter", "event=die", "--format",
        "{{.Action}} {{.Actor.Attributes.exitCode}}"});
  // Nothing from before --since.
  same({"events", "--since", until, "--until", until});
  auto bad = s.ours({"events", "--since", "yesterday", "--until", "0s"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--since 'yesterday'"), std::string::npos) << bad.err;
}

}  // namespace
