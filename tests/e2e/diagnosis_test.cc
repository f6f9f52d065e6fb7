// The diagnosis against ground truth: each limit is induced for real and the
// verdict ferry prints must name it. Conditions are real: network
// namespaces joined by a veth pair with a tbf rate limit, a clamped receive
// buffer, a slow reader on the receiving end, a slowly fed source, disks on
// loop devices throttled by the block layer, CPU quotas and a core shared
// with a busy loop. Every verdict word ferry can print has a case. No case
// asserts on time; each passes or fails on the verdict alone.
//
// With FERRY_RECORD_TRACES=DIR set, each case's --trace is kept there as
// CASE.jsonl: tests/unit/fixtures/diagnosis holds such recordings, which the
// unit tests of judge() replay.
#include <stdlib.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/delay_path.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/induced_limits.h"
#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {

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
  // --trace into the test's directory; kept under FERRY_RECORD_TRACES.
  std::string trace() const { return t / "trace.jsonl"; }
  void TearDown() override {
    const char* keep = getenv("FERRY_RECORD_TRACES");
    if (keep && exists(trace()))
      write_file(fmt::format("{}/{}.jsonl", keep,
                             testing::UnitTest::GetInstance()->current_test_info()->name()),
                 read_file(trace()));
  }
  TempDir t;
};

// A file of `size` in memory (so reading it costs no disk).
std::string file_in_memory(const TempDir& mem, const std::string& size) {
  std::string path = mem / "data";
  EXPECT_EQ(Process({gen_tree_bin(), "file", path, size}).wait().exit_code, 0);
  return path;
}

TEST_F(Diagnosis, RateLimitedPathIsNetwork) {
  NetnsPair net("80mbit");
  NsServer server(net, t / "srv");
  auto j = run_json(
      net.in_a({ferry_bin(), "cp", "--json", "--trace", trace(), t / "data", server.url()}));
  EXPECT_EQ(verdict_of(j), "network") << j.dump(2);
}

TEST_F(Diagnosis, ClampedReceiveBufferIsReceiveWindow) {
  NetnsPair net("1gbit");
  NsServer server(net, t / "srv", {"--rcvbuf", "16K"});
  auto j = run_json(
      net.in_a({ferry_bin(), "cp", "--json", "--trace", trace(), t / "data", server.url()}));
  EXPECT_EQ(verdict_of(j), "receive-window") << j.dump(2);
}

TEST_F(Diagnosis, SlowReaderOfTheOutputIsSinkWrite) {
  write_file(t / "srv/keep", "");
  ASSERT_EQ(rename((t / "data").c_str(), (t / "srv/data").c_str()), 0);
  FerryServer server(t / "srv");
  // The receiver writes the file to its standard output, read at 8 MB/s.
  Process p({"/bin/sh", "-c",
             fmt::format("{} cp --json --trace {} {} - 2>{} | pv -q -L 8m >/dev/null", ferry_bin(),
                         trace(), server.url("data"), t / "summary.json")},
            {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_EQ(p.wait().exit_code, 0) << p.err();
  auto j = nlohmann::json::parse(read_file(t / "summary.json"), nullptr, false);
  EXPECT_EQ(verdict_of(j), "sink-write") << read_file(t / "summary.json");
}

TEST_F(Diagnosis, SlowlyFedSourceIsSourceRead) {
  FerryServer server(t / "srv");
  // The sender reads its standard input, fed at 8 MB/s.
  Process p({"/bin/sh", "-c",
             fmt::format("pv -q -L 8m {} | {} cp --json --trace {} - {}", t / "data", ferry_bin(),
                         trace(), server.url("from-stdin"))},
            {std::string("FERRY_TOKEN=") + kToken});
  auto r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(verdict_of(j), "source-read") << r.out;
  EXPECT_EQ(read_file(t / "srv/from-stdin"), read_file(t / "data"));
}

TEST_F(Diagnosis, ThrottledSourceDiskIsSourceRead) {
  // The source on a disk whose reads the block layer holds to 8 MB/s for the
  // sender's cgroup; nothing of it in the page cache.
  ThrottledDisk disk(8'000'000, 0);
  ASSERT_EQ(Process({gen_tree_bin(), "file", disk / "data", "24M"}).wait().exit_code, 0);
  disk.drop_cache();
  FerryServer server(t / "srv");
  auto j = run_json(
      disk.wrap({ferry_bin(), "cp", "--json", "--trace", trace(), disk / "data", server.url()}));
  EXPECT_EQ(verdict_of(j), "source-read") << j.dump(2);
  EXPECT_EQ(read_file(t / "srv/data"), read_file(disk / "data"));
}

TEST_F(Diagnosis, ThrottledSinkDiskIsSinkWrite) {
  // The server writes to a disk mounted `sync` whose writes the block layer
  // holds to 8 MB/s for the server's cgroup.
  ThrottledDisk disk(0, 8'000'000);
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "24M");
  FerryServer server(disk.mount_point(), {}, kToken, disk.wrap({}));
  auto j = run_json({ferry_bin(), "cp", "--json", "--trace", trace(), data, server.url()});
  EXPECT_EQ(verdict_of(j), "sink-write") << j.dump(2);
  EXPECT_EQ(read_file(disk / "data"), read_file(data));
}

TEST_F(Diagnosis, SenderUnderCpuQuotaIsSenderCpu) {
  CpuQuota quota(10);
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "96M");
  FerryServer server(t / "srv");
  auto j =
      run_json(quota.wrap({ferry_bin(), "cp", "--json", "--trace", trace(), data, server.url()}));
  EXPECT_EQ(verdict_of(j), "sender-cpu") << j.dump(2);
}

TEST_F(Diagnosis, ReceiverUnderCpuQuotaIsReceiverCpu) {
  CpuQuota quota(10);
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "96M");
  FerryServer server(t / "srv", {}, kToken, quota.wrap({}));
  auto j = run_json({ferry_bin(), "cp", "--json", "--trace", trace(), data, server.url()});
  EXPECT_EQ(verdict_of(j), "receiver-cpu") << j.dump(2);
}

TEST_F(Diagnosis, SenderSharingItsCoreIsSenderCpu) {
  // The sender and a busy loop pinned to the same core: the sender gets
  // about half of it, the receiver has the other core to itself.
  Process busy({"/usr/bin/taskset", "-c", "0", "/bin/sh", "-c", "while :; do :; done"});
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "256M");
  FerryServer server(mem.path(), {}, kToken, {"/usr/bin/taskset", "-c", "1"});
  auto j = run_json({"/usr/bin/taskset", "-c", "0", ferry_bin(), "cp", "--json", "--trace", trace(),
                     data, server.url("copy")});
  EXPECT_EQ(verdict_of(j), "sender-cpu") << j.dump(2);
}

TEST_F(Diagnosis, BothEndsInOneCpuQuotaIsBalanced) {
  // One quota for both ends: neither is the limit alone, the shared budget is.
  CpuQuota quota(10);
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "64M");
  FerryServer server(t / "srv", {}, kToken, quota.wrap({}));
  auto j =
      run_json(quota.wrap({ferry_bin(), "cp", "--json", "--trace", trace(), data, server.url()}));
  EXPECT_EQ(verdict_of(j), "balanced") << j.dump(2);
}

// Long paths: the delay line (tools/delay_line) holds every packet 50 ms
// each way, at 1 Gbit/s: a 100 ms round trip, as across a continent.

// A ferry server at the far end of a long path. The port is fixed: the
// path's namespaces are the test's own.
class LongPathServer {
 public:
  LongPathServer(const DelayPath& path, const std::string& dir, std::vector<std::string> extra = {})
      : url_("ferry://" + path.addr_b() + ":7190/") {
    std::vector<std::string> argv = {ferry_bin(), "serve", dir, "--listen",
                                     path.addr_b() + ":7190"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(
        path.in_b(argv), std::vector<std::string>{std::string("FERRY_TOKEN=") + kToken});
    if (!eventually([&] { return proc_->out().find(path.addr_b()) != std::string::npos; }))
      ADD_FAILURE() << "ferry serve did not start: " << proc_->err();
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::unique_ptr<Process> proc_;
};

TEST_F(Diagnosis, LongPathSmallReceiveBufferIsReceiveWindow) {
  DelayPath path({.delay = "50ms", .rate = "1gbit"});
  TempDir mem("/dev/shm");
  // 48 MiB, far more than the sender's buffer (4 MiB at most here) can hold.
  std::string data = file_in_memory(mem, "48M");
  LongPathServer server(path, t / "srv", {"--rcvbuf", "1M"});
  auto j = run_json(
      path.in_a({ferry_bin(), "cp", "--json", "-P", "1", "--trace", trace(), data, server.url()}));
  EXPECT_EQ(verdict_of(j), "receive-window") << j.dump(2);
}

TEST_F(Diagnosis, LongPathSmallSendBufferIsSendBuffer) {
  DelayPath path({.delay = "50ms", .rate = "1gbit"});
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "4M");
  LongPathServer server(path, t / "srv");
  auto j = run_json(path.in_a({ferry_bin(), "cp", "--json", "-P", "1", "--sndbuf", "256K",
                               "--trace", trace(), data, server.url()}));
  EXPECT_EQ(verdict_of(j), "send-buffer") << j.dump(2);
}

TEST_F(Diagnosis, LongPathDefaultBuffersAreSendBufferAndPickStreams) {
  // Linux's default buffers: tcp_rmem grows to 32 MiB, enough for the 12.5
  // MB in flight, but tcp_wmem only to 4 MiB, so one stream is held back by
  // its send buffer.
  DelayPath path({.delay = "50ms", .rate = "1gbit"});
  TempDir mem("/dev/shm");
  std::string data = file_in_memory(mem, "96M");
  LongPathServer server(path, t / "srv");
  auto j = run_json(
      path.in_a({ferry_bin(), "cp", "--json", "-P", "1", "--trace", trace(), data, server.url()}));
  EXPECT_EQ(verdict_of(j), "send-buffer") << j.dump(2);
  EXPECT_NE(j["advice"].get<std::string>().find("wmem"), std::string::npos) << j.dump(2);
  // Without -P, ferry sees the 100 ms round trip and opens 4 streams.
  auto auto_streams =
      run_json(path.in_a({ferry_bin(), "cp", "--json", data, server.url() + "again"}));
  EXPECT_EQ(auto_streams["streams"], 4) << auto_streams.dump(2);
}

}  // namespace
}  // namespace e2e
