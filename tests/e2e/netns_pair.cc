#include "tests/e2e/netns_pair.h"

#include <unistd.h>

#include <fmt/format.h>

namespace e2e {

int sh(const std::string& cmd) {
  Process p({"/bin/sh", "-c", cmd});
  auto r = p.wait();
  if (r.exit_code != 0) ADD_FAILURE() << cmd << ": " << r.err;
  return r.exit_code;
}

NetnsPair::NetnsPair(const std::string& tbf_rate, bool both_ways) {
  static int seq = 0;
  id_ = fmt::format("fdt{}x{}", getpid() % 100000, seq++);
  int n = (getpid() + seq) % 250 + 1;
  a_ = id_ + "a";
  b_ = id_ + "b";
  addr_a_ = fmt::format("10.203.{}.1", n);
  addr_b_ = fmt::format("10.203.{}.2", n);
  sh(
      fmt::format("ip netns add {0} && ip netns add {1} && "
                  "ip link add {2}a type veth peer name {2}b && "
                  "ip link set {2}a netns {0} && ip link set {2}b netns {1} && "
                  "ip -n {0} addr add {3}/30 dev {2}a && "
                  "ip -n {1} addr add {4}/30 dev {2}b && "
                  "ip -n {0} link set {2}a up && ip -n {1} link set {2}b up && "
                  "ip -n {0} link set lo up && ip -n {1} link set lo up",
                  a_, b_, id_, addr_a_, addr_b_));
  if (!tbf_rate.empty())
    sh(fmt::format("ip netns exec {} tc qdisc add dev {}a root tbf rate {} burst 64kb latency 50ms",
                   a_, id_, tbf_rate));
  if (!tbf_rate.empty() && both_ways)
    sh(fmt::format("ip netns exec {} tc qdisc add dev {}b root tbf rate {} burst 64kb latency 50ms",
                   b_, id_, tbf_rate));
}

NetnsPair::~NetnsPair() {
  Process({"/bin/sh", "-c", fmt::format("ip netns del {}; ip netns del {}", a_, b_)}).wait();
}

std::vector<std::string> NetnsPair::wrap(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
  return argv;
}

NsServer::NsServer(const NetnsPair& net, const std::string& dir, std::vector<std::string> extra) {
  std::vector<std::string> argv = {ferry_bin(), "serve", dir, "--listen", net.addr_b() + ":0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<Process>(net.in_b(argv),
                                    std::vector<std::string>{std::string("FERRY_TOKEN=") + kToken});
  bool up = eventually([&] {
    std::string out = proc_->out();
    size_t at = out.find(net.addr_b() + ":");
    if (at == std::string::npos || out.find(')', at) == std::string::npos) return false;
    url_ = "ferry://" + out.substr(at, out.find(' ', at) - at) + "/";
    return true;
  });
  if (!up) ADD_FAILURE() << "server did not start: " << proc_->err();
}

}  // namespace e2e
