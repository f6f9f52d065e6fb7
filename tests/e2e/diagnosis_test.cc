// The diagnosis against ground truth: each limit is induced for real and the
// verdict ferry prints must name it. Conditions are real: network
// namespaces joined by a veth pair with a tbf rate limit, a clamped receive
// buffer, a slow reader on the receiving end, a slowly fed source. No case
// asserts on time; each passes or fails on the verdict alone.
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"

namespace e2e {
namespace {

// Runs a shell command; returns its exit code.
int sh(const std::string& cmd) {
  Process p({"/bin/sh", "-c", cmd});
  auto r = p.wait();
  if (r.exit_code != 0) ADD_FAILURE() << cmd << ": " << r.err;
  return r.exit_code;
}

// Two network namespaces, "a" (10.203.N.1) and "b" (10.203.N.2), joined by
// a veth pair; optionally a tbf rate limit on a's side. Removed on exit.
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& tbf_rate = "") {
    static int seq = 0;
    id_ = fmt::format("fdt{}x{}", getpid() % 100000, seq++);
    int n = (getpid() + seq) % 250 + 1;
    a_ = id_ + "a";
    b_ = id_ + "b";
    addr_b_ = fmt::format("10.203.{}.2", n);
    sh(
        fmt::format("ip netns add {0} && ip netns add {1} && "
                    "ip link add {2}a type veth peer name {2}b && "
                    "ip link set {2}a netns {0} && ip link set {2}b netns {1} && "
                    "ip -n {0} addr add 10.203.{3}.1/30 dev {2}a && "
                    "ip -n {1} addr add 10.203.{3}.2/30 dev {2}b && "
                    "ip -n {0} link set {2}a up && ip -n {1} link set {2}b up && "
                    "ip -n {0} link set lo up && ip -n {1} link set lo up",
                    a_, b_, id_, n));
    if (!tbf_rate.empty())
      sh(fmt::format(
          "ip netns exec {} tc qdisc add dev {}a root tbf rate {} burst 64kb latency 50ms", a_, id_,
          tbf_rate));
  }
  ~NetnsPair() {
    Process({"/bin/sh", "-c", fmt::format("ip netns del {}; ip netns del {}", a_, b_)}).wait();
  }
  std::vector<std::string> in_a(std::vector<std::string> argv) const { return wrap(a_, argv); }
  std::vector<std::string> in_b(std::vector<std::string> argv) const { return wrap(b_, argv); }
  const std::string& addr_b() const { return addr_b_; }

 private:
  static std::vector<std::string> wrap(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
    return argv;
  }
  std::string id_, a_, b_, addr_b_;
};

// A ferry server inside namespace b; returns its URL prefix.
class NsServer {
 public:
  NsServer(const NetnsPair& net, const std::string& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {ferry_bin(), "serve", dir, "--listen", net.addr_b() + ":0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(
        net.in_b(argv), std::vector<std::string>{std::string("FERRY_TOKEN=") + kToken});
    bool up = eventually([&] {
      std::string out = proc_->out();
      size_t at = out.find(net.addr_b() + ":");
      if (at == std::string::npos || out.find(')', at) == std::string::npos) return false;
      url_ = "ferry://" + out.substr(at, out.find(' ', at) - at) + "/";
      return true;
    });
    if (!up) ADD_FAILURE() << "server did not start: " << proc_->err();
  }
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<Process> proc_;
  std::string url_;
};

nlohmann::json run_json(std::vector<std::string> argv) {
  Process p(std::move(argv), {std::string("FERRY_TOKEN=") + kToken});
  auto r = p.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << "stdout: " << r.out << "\nstderr: " << r.err;
  return j;
}

// The verdict, after checking it was made with both ends' samples.
std::string verdict_of(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("bottleneck")) return "(none)";
  EXPECT_TRUE(j["shares"].contains("sender_socket_blocked") &&
              j["shares"].contains("receiver_socket_wait"))
      << "the verdict lacks one end's view: " << j.dump(2);
  // Shown with ctest -V / the test's output: the evidence docs/DIAGNOSIS.md quotes.
  std::cout << "[verdict] " << j["bottleneck"].get<std::string>() << " — "
            << j["evidence"].get<std::string>() << "\n";
  return j["bottleneck"].get<std::string>();
}

class Diagnosis : public testing::Test {
 protected:
  void SetUp() override {
    mkdir((t / "srv").c_str(), 0755);
    ASSERT_EQ(Process({gen_tree_bin(), "file", t / "data", "48M"}).wait().exit_code, 0);
  }
  TempDir t;
};

TEST_F(Diagnosis, RateLimitedPathIsNetwork) {
  NetnsPair net("80mbit");
  NsServer server(net, t / "srv");
  auto j = run_json(net.in_a({ferry_bin(), "cp", "--json", t / "data", server.url()}));
  EXPECT_EQ(verdict_of(j), "network") << j.dump(2);
}

TEST_F(Diagnosis, ClampedReceiveBufferIsReceiveWindow) {
  NetnsPair net("1gbit");
  NsServer server(net, t / "srv", {"--rcvbuf", "16K"});
  auto j = run_json(net.in_a({ferry_bin(), "cp", "--json", t / "data", server.url()}));
  EXPECT_EQ(verdict_of(j), "receive-window") << j.dump(2);
}

TEST_F(Diagnosis, SlowReaderOfTheOutputIsSinkWrite) {
  write_file(t / "srv/keep", "");
  ASSERT_EQ(rename((t / "data").c_str(), (t / "srv/data").c_str()), 0);
  FerryServer server(t / "srv");
  // The receiver writes the file to its standard output, read at 8 MB/s.
  Process p({"/bin/sh", "-c",
             fmt::format("{} cp --json {} - 2>{} | pv -q -L 8m >/dev/null", ferry_bin(),
                         server.url("data"), t / "summary.json")},
            {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_EQ(p.wait().exit_code, 0) << p.err();
  auto j = nlohmann::json::parse(read_file(t / "summary.json"), nullptr, false);
  EXPECT_EQ(verdict_of(j), "sink-write") << read_file(t / "summary.json");
}

TEST_F(Diagnosis, SlowlyFedSourceIsSourceRead) {
  FerryServer server(t / "srv");
  // The sender reads its standard input, fed at 8 MB/s.
  Process p({"/bin/sh", "-c",
             fmt::format("pv -q -L 8m {} | {} cp --json - {}", t / "data", ferry_bin(),
                         server.url("from-stdin"))},
            {std::string("FERRY_TOKEN=") + kToken});
  auto r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(verdict_of(j), "source-read") << r.out;
  EXPECT_EQ(read_file(t / "srv/from-stdin"), read_file(t / "data"));
}

TEST_F(Diagnosis, PlainFastPathIsBalancedOrNetwork) {
  // A source in memory and a sink that costs nothing (standard output into
  // /dev/null): nothing slow but the path itself. (Into this machine's ext4,
  // or into fresh tmpfs pages of this VM, ferry rightly says sink-write.)
  TempDir mem("/dev/shm");
  mkdir((mem / "srv").c_str(), 0755);
  ASSERT_EQ(Process({gen_tree_bin(), "file", mem / "srv/more", "400M"}).wait().exit_code, 0);
  NetnsPair net;
  NsServer server(net, mem / "srv");
  Process p(net.in_a({"/bin/sh", "-c",
                      fmt::format("{} cp --json --interval 50 {} - 2>{} >/dev/null", ferry_bin(),
                                  server.url() + "more", t / "summary.json")}),
            {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_EQ(p.wait().exit_code, 0) << p.err();
  auto j = nlohmann::json::parse(read_file(t / "summary.json"), nullptr, false);
  std::string v = verdict_of(j);
  EXPECT_TRUE(v == "balanced" || v == "network") << read_file(t / "summary.json");
}

}  // namespace
}  // namespace e2e
