// delay-line for real: two namespaces joined by it (DelayPath), with ping,
// TCP through nc, loss, and its command line. The only timing checks are
// lower bounds the path guarantees: no packet leaves before its delay, and
// no byte crosses faster than the rate.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include <fmt/format.h>

#include "tests/e2e/delay_path.h"
#include "tests/e2e/harness.h"

namespace e2e {
namespace {

constexpr int kPort = 5201;

// Every "time=12.345 ms" of a ping's output, in milliseconds.
std::vector<double> ping_times(const std::string& out) {
  std::vector<double> times;
  std::regex re("time=([0-9.]+) ms");
  for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it)
    times.push_back(std::stod((*it)[1]));
  return times;
}

// Sends file `in` from namespace a to namespace b with nc; b writes `out`.
void send_with_nc(const DelayPath& path, const std::string& in, const std::string& out) {
  Process listener(path.in_b(
      {"/bin/sh", "-c", fmt::format("exec nc -l {} {} > {}", path.addr_b(), kPort, out)}));
  ASSERT_TRUE(eventually(
      [&] {
        return !Process(path.in_b({"/bin/sh", "-c",
                                   fmt::format("ss -Hltn 'sport = :{}' | grep -q .", kPort)}))
                    .wait()
                    .exit_code;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50)));
  auto sent = Process(path.in_a({"/bin/sh", "-c",
                                 fmt::format("nc -N {} {} < {}", path.addr_b(), kPort, in)}))
                  .wait();
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(listener.wait().exit_code, 0);
}

// The netns-wide count of TCP segments sent again, by nstat inside `ns`.
long retransmitted_segments(const DelayPath& path) {
  auto r = Process(path.in_a({"nstat", "-asz", "TcpRetransSegs"})).wait();
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("TcpRetransSegs\\s+([0-9]+)"))) {
    ADD_FAILURE() << "nstat: " << r.out << r.err;
    return -1;
  }
  return std::stol(m[1]);
}

TEST(DelayLine, PingRoundTripIsAtLeastTwiceTheDelay) {
  DelayPath path({.delay = "30ms"});
  auto r =
      Process(path.in_a({"/bin/busybox", "ping", "-c", "5", "-i", "0.2", path.addr_b()})).wait();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto times = ping_times(r.out);
  ASSERT_EQ(times.size(), 5u) << r.out;
  for (double t : times) EXPECT_GE(t, 60.0) << r.out;
}

TEST(DelayLine, TcpTransferArrivesWhole) {
  TempDir t;
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "in", "20M"}).wait().exit_code, 0);
  DelayPath path({.delay = "10ms", .rate = "500mbit"});
  send_with_nc(path, t / "in", t / "out");
  EXPECT_TRUE(read_file(t / "in") == read_file(t / "out")) << "the data differs";
  auto r = path.stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("a->b: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("b->a: "), std::string::npos) << r.err;
}

TEST(DelayLine, NoByteCrossesFasterThanTheRate) {
  TempDir t;
  // 4 MiB of payload at 32 Mbit/s: at least 1.05 s on the link, headers aside.
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "in", "4M"}).wait().exit_code, 0);
  DelayPath path({.delay = "1ms", .rate = "32mbit"});
  auto start = std::chrono::steady_clock::now();
  send_with_nc(path, t / "in", t / "out");
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took.count(), 4.0 * 1024 * 1024 * 8 / 32e6);
  EXPECT_TRUE(read_file(t / "in") == read_file(t / "out")) << "the data differs";
}

TEST(DelayLine, LossMakesTcpRetransmitButDataArrivesWhole) {
  TempDir t;
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "in", "2M"}).wait().exit_code, 0);
  DelayPath path({.delay = "5ms", .loss = "5%"});
  send_with_nc(path, t / "in", t / "out");
  EXPECT_TRUE(read_file(t / "in") == read_file(t / "out")) << "the data differs";
  EXPECT_GT(retransmitted_segments(path), 0);
  auto r = path.stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(" loss"), std::string::npos) << r.err;
}

TEST(DelayLine, LeavesNothingBehind) {
  std::string ns_a, ns_b;
  pid_t pid = -1;
  {
    DelayPath path({.delay = "1ms"});
    ns_a = path.ns_a();
    ns_b = path.ns_b();
    pid = path.pid();
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(exists("/proc/" + std::to_string(pid)));
    auto links = Process(path.in_a({"/usr/sbin/ip", "-o", "link", "show", "delay-a"})).wait();
    EXPECT_EQ(links.exit_code, 0) << links.err;
  }
  EXPECT_FALSE(exists("/run/netns/" + ns_a));
  EXPECT_FALSE(exists("/run/netns/" + ns_b));
  EXPECT_FALSE(exists("/proc/" + std::to_string(pid)));
}

TEST(DelayLine, SigintEndsItWithExitZero) {
  DelayPath path({.delay = "1ms"});
  ::kill(path.pid(), SIGINT);
  auto r = path.stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Nothing is sent on purpose, but the kernel may send a packet of its own
  // as the links come up (CI once saw one of 48 B each way): the summary is
  // checked, not its counts.
  EXPECT_TRUE(std::regex_search(
      r.err,
      std::regex(R"(a->b: \d+ packets \(\d+ B\) forwarded, \d+ dropped; b->a: \d+ packets)")))
      << r.err;
}

TEST(DelayLine, BadInputIsOneLineAndExitTwo) {
  DelayPath path({.delay = "1ms"});  // two namespaces that exist
  struct Case {
    std::vector<std::string> args;  // after --ns-a A --ns-b B, or in their place
    std::string names;              // what the message must name
  };
  std::vector<Case> cases = {
      {{"--ns-a", "no-such-ns-204", "--ns-b", path.ns_b(), "--delay", "5ms"}, "no-such-ns-204"},
      {{"--ns-a", path.ns_a(), "--ns-b", path.ns_a(), "--delay", "5ms"}, "same namespace"},
      {{"--delay", "5ms", "--rate", "fast"}, "--rate"},
      {{"--delay", "-5ms"}, "--delay"},
      {{"--delay", "5ms", "--loss", "101"}, "--loss"},
      {{"--delay", "5ms", "--limit", "lots"}, "--limit"},
      {{"--delay", "5ms", "--addr-a", "10.204.0.1/24"}, "--addr-b"},
      {{"--delay", "5ms", "--addr-a", "10.204.0.1/24", "--addr-b", "10.204.1.2/24"}, "subnet"},
      {{"--delay", "5ms", "--mtu", "10"}, "--mtu"},
      {{}, "--delay"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {delay_line_bin()};
    if (c.args.empty() || c.args[0] != "--ns-a")
      argv.insert(argv.end(), {"--ns-a", path.ns_a(), "--ns-b", path.ns_b()});
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = Process(argv).wait(std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << c.names << ": " << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace e2e
