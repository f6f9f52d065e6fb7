// DelayPath: a long network path for tests. Two network namespaces, "a"
// (10.204.N.1/24) and "b" (10.204.N.2/24), joined by the real delay-line
// program (tools/delay_line) with a one-way delay each way (RTT = 2 x
// delay), and optionally a rate, a queue limit and random loss. The
// constructor returns once delay-line printed "ready"; the destructor stops
// it (SIGTERM) and deletes both namespaces, so nothing is left behind.
// Nothing here touches an address outside 10.204.0.0/16.
//
//   DelayPath path({.delay = "50ms", .rate = "1gbit"});
//   Process server(path.in_b({"iperf3", "-s", "-1", "-B", path.addr_b()}));
//   auto r = Process(path.in_a({"iperf3", "-c", path.addr_b()})).wait();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace e2e {

std::string delay_line_bin();

struct DelayPathOptions {
  std::string delay = "50ms";      // one way, as delay-line's --delay
  std::string rate;                // "1gbit"; empty: no rate limit
  std::string limit;               // "4M"; empty: delay-line's default
  std::string loss;                // "5%"; empty: none
  std::vector<std::string> extra;  // more delay-line arguments ("--mtu", "9000")
};

class DelayPath {
 public:
  explicit DelayPath(const DelayPathOptions& options = {});
  ~DelayPath();
  DelayPath(const DelayPath&) = delete;
  DelayPath& operator=(const DelayPath&) = delete;

  // argv run inside namespace a or b (through `ip netns exec`).
  std::vector<std::string> in_a(std::vector<std::string> argv) const { return wrap(ns_a_, argv); }
  std::vector<std::string> in_b(std::vector<std::string> argv) const { return wrap(ns_b_, argv); }
  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  const std::string& addr_a() const { return addr_a_; }
  const std::string& addr_b() const { return addr_b_; }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  // Sets a sysctl in both namespaces (the per-namespace ones: net.ipv4.tcp_rmem, ...).
  void sysctl(const std::string& key, const std::string& value) const;

  // Stops delay-line and returns its exit code and output (stderr ends with
  // its counts: "a->b: N packets (...) forwarded, M dropped ..."). The
  // namespaces stay until the destructor.
  ProcResult stop();

 private:
  static std::vector<std::string> wrap(const std::string& ns, std::vector<std::string> argv);
  std::string ns_a_, ns_b_, addr_a_, addr_b_;
  std::unique_ptr<Process> proc_;
};

}  // namespace e2e
