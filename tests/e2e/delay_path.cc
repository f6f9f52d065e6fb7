#include "tests/e2e/delay_path.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

namespace e2e {
namespace {

// Runs argv to completion; a failure is a test failure.
void must(const std::vector<std::string>& argv) {
  auto r = Process(argv).wait(std::chrono::seconds(30));
  if (r.exit_code != 0) ADD_FAILURE() << argv[0] << " ... " << argv.back() << ": " << r.err;
}

}  // namespace

std::string delay_line_bin() {
  return DELAY_LINE_BIN;
}

DelayPath::DelayPath(const DelayPathOptions& o) {
  static int seq = 0;
  std::string id = fmt::format("dlp{}x{}", getpid() % 100000, seq++);
  int n = (getpid() + seq) % 250 + 1;
  ns_a_ = id + "a";
  ns_b_ = id + "b";
  addr_a_ = fmt::format("10.204.{}.1", n);
  addr_b_ = fmt::format("10.204.{}.2", n);
  for (const auto& ns : {ns_a_, ns_b_}) {
    must({"/usr/sbin/ip", "netns", "add", ns});
    must({"/usr/sbin/ip", "-n", ns, "link", "set", "lo", "up"});
  }
  std::vector<std::string> argv = {
      delay_line_bin(), "--ns-a",   ns_a_,           "--ns-b",  ns_b_,  "--addr-a",
      addr_a_ + "/24",  "--addr-b", addr_b_ + "/24", "--delay", o.delay};
  for (const auto& [flag, value] :
       {std::pair{"--rate", o.rate}, {"--limit", o.limit}, {"--loss", o.loss}})
    if (!value.empty()) argv.insert(argv.end(), {flag, value});
  argv.insert(argv.end(), o.extra.begin(), o.extra.end());
  proc_ = std::make_unique<Process>(argv);
  bool ready = eventually([&] { return proc_->out() == "ready\n" || !proc_->running(); },
                          std::chrono::seconds(20));
  if (!ready || proc_->out() != "ready\n")
    ADD_FAILURE() << "delay-line did not get ready: " << proc_->err();
}

DelayPath::~DelayPath() {
  (void)stop();
  for (const auto& ns : {ns_a_, ns_b_}) Process({"/usr/sbin/ip", "netns", "del", ns}).wait();
}

ProcResult DelayPath::stop() {
  if (!proc_) return {};
  proc_->signal(SIGTERM);
  auto r = proc_->wait(std::chrono::seconds(20));
  proc_.reset();
  return r;
}

void DelayPath::sysctl(const std::string& key, const std::string& value) const {
  for (const auto& ns : {ns_a_, ns_b_})
    must({"/usr/sbin/ip", "netns", "exec", ns, "sysctl", "-qw", key + "=" + value});
}

std::vector<std::string> DelayPath::wrap(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
  return argv;
}

}  // namespace e2e
