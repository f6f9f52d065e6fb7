// Test networks for ferry: two network namespaces joined by a veth pair the
// test creates (and removes in the destructor), and a ferry server inside
// one of them. Nothing here touches an address outside 10.203.0.0/16.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace e2e {

// Runs a shell command; returns its exit code (a failure is a test failure).
int sh(const std::string& cmd);

// Two network namespaces, "a" (10.203.N.1) and "b" (10.203.N.2), joined by
// a veth pair; optionally a tbf rate limit on a's side (what a sends), or
// on both sides. Removed on exit.
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& tbf_rate = "", bool both_ways = false);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  std::vector<std::string> in_a(std::vector<std::string> argv) const { return wrap(a_, argv); }
  std::vector<std::string> in_b(std::vector<std::string> argv) const { return wrap(b_, argv); }
  const std::string& addr_a() const { return addr_a_; }
  const std::string& addr_b() const { return addr_b_; }
  // The veth end inside namespace a (to capture on).
  std::string link_a() const { return id_ + "a"; }

 private:
  static std::vector<std::string> wrap(const std::string& ns, std::vector<std::string> argv);
  std::string id_, a_, b_, addr_a_, addr_b_;
};

// A ferry server inside namespace b, with FERRY_TOKEN=kToken.
class NsServer {
 public:
  NsServer(const NetnsPair& net, const std::string& dir, std::vector<std::string> extra = {});
  // ferry://ADDR:PORT/
  const std::string& url() const { return url_; }
  std::string log() const { return proc_->err(); }

 private:
  std::unique_ptr<Process> proc_;
  std::string url_;
};

}  // namespace e2e
