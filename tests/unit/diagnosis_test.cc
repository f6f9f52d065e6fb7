// judge() over samples recorded from real induced limits
// (tests/unit/fixtures/diagnosis, recorded by tests/e2e/diagnosis_test.cc
// with FERRY_RECORD_TRACES), and over hand-made samples for the rules'
// edges. The recordings pin the rules to what the kernel reported when each
// limit was real.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ferry/cpu_watch.h"
#include "ferry/diagnosis.h"

namespace ferry {
namespace {

struct Replayed {
  std::optional<Sample> sender, receiver;
};

// Every sample of a trace, both ends, averaged per side as the monitor does.
Replayed replay(const std::string& name) {
  std::ifstream in(std::string(DIAGNOSIS_FIXTURES) + "/" + name + ".jsonl");
  EXPECT_TRUE(in) << name;
  SampleAverage snd, rcv;
  for (std::string line; std::getline(in, line);) {
    auto s = Sample::from_json(nlohmann::json::parse(line));
    EXPECT_TRUE(s) << name << ": " << line;
    if (!s) continue;
    (s->role == "sender" ? snd : rcv).add(*s);
  }
  return {snd.average(), rcv.average()};
}

struct Case {
  const char* trace;
  const char* verdict;
};

class Recorded : public testing::TestWithParam<Case> {};

TEST_P(Recorded, JudgesTheWholeTransferAsInduced) {
  auto r = replay(GetParam().trace);
  ASSERT_TRUE(r.sender && r.receiver) << "the recording lacks one end";
  Verdict v = judge(r.sender, r.receiver);
  EXPECT_EQ(v.limit, GetParam().verdict) << v.evidence;
  EXPECT_FALSE(v.evidence.empty());
  EXPECT_FALSE(v.advice.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Diagnosis, Recorded,
    testing::Values(Case{"RateLimitedPathIsNetwork", "network"},
                    Case{"ClampedReceiveBufferIsReceiveWindow", "receive-window"},
                    Case{"SlowReaderOfTheOutputIsSinkWrite", "sink-write"},
                    Case{"SlowlyFedSourceIsSourceRead", "source-read"},
                    Case{"ThrottledSourceDiskIsSourceRead", "source-read"},
                    Case{"ThrottledSinkDiskIsSinkWrite", "sink-write"},
                    Case{"SenderUnderCpuQuotaIsSenderCpu", "sender-cpu"},
                    Case{"ReceiverUnderCpuQuotaIsReceiverCpu", "receiver-cpu"},
                    Case{"ReceiverCoreBusyElsewhereIsReceiverCpu", "receiver-cpu"},
                    Case{"SenderSharingItsCoreIsSenderCpu", "sender-cpu"},
                    Case{"BothEndsInOneCpuQuotaIsBalanced", "balanced"},
                    Case{"LongPathSmallReceiveBufferIsReceiveWindow", "receive-window"},
                    Case{"LongPathSmallSendBufferIsSendBuffer", "send-buffer"},
                    Case{"LongPathDefaultBuffersAreSendBufferAndPickStreams", "send-buffer"}),
    [](const auto& info) { return std::string(info.param.trace); });

Sample sender() {
  Sample s;
  s.role = "sender";
  s.interval = 0.2;
  s.bytes = 1 << 20;
  return s;
}

Sample receiver() {
  Sample s;
  s.role = "receiver";
  s.interval = 0.2;
  s.bytes = 1 << 20;
  return s;
}

TEST(Judge, NoSamplesSaysSo) {
  Verdict v = judge(std::nullopt, std::nullopt);
  EXPECT_EQ(v.limit, "balanced");
  EXPECT_EQ(v.evidence, "no samples yet");
}

TEST(Judge, StarvationOutranksWhatItDistorts) {
  // A throttled sender looks blocked on its socket; the quota is the cause.
  Sample s = sender();
  s.socket_send = 0.7;
  s.cpu_run = 0.1;
  s.cpu_throttled = 0.85;
  Sample r = receiver();
  r.socket_recv = 0.9;
  EXPECT_EQ(judge(s, r).limit, "sender-cpu");
  // The same on the receiving side, whose sink writes look slow.
  Sample s2 = sender();
  s2.socket_send = 0.9;
  s2.tcp_rwnd_limited = 0.6;
  Sample r2 = receiver();
  r2.sink_write = 0.6;
  r2.cpu_run = 0.3;
  r2.cpu_wait = 0.65;
  EXPECT_EQ(judge(s2, r2).limit, "receiver-cpu");
}

TEST(Judge, TheMoreStarvedEndIsTheLimitAndEqualStarvationIsBalanced) {
  Sample s = sender();
  s.cpu_wait = 0.8;
  Sample r = receiver();
  r.cpu_wait = 0.4;
  EXPECT_EQ(judge(s, r).limit, "sender-cpu");
  r.cpu_wait = 0.75;
  EXPECT_EQ(judge(s, r).limit, "balanced");
  r.cpu_wait = 0.95;
  s.cpu_wait = 0.5;
  EXPECT_EQ(judge(s, r).limit, "receiver-cpu");
}

TEST(Judge, ASourceIsTheLimitOnlyWhenTheSocketRunsDry) {
  // A disk 1.5x faster than the link: the serial sender reads 67% of the
  // time and is blocked 33%, but its socket never runs dry: the network.
  Sample s = sender();
  s.source_read = 0.67;
  s.socket_send = 0.33;
  s.tcp_busy = 1.0;
  Sample r = receiver();
  r.socket_recv = 0.5;
  EXPECT_EQ(judge(s, r).limit, "network");
  s.tcp_busy = 0.4;
  EXPECT_EQ(judge(s, r).limit, "source-read");
}

TEST(Judge, ASaturatedThreadIsItsSidesCpu) {
  Sample s = sender();
  s.cpu_run = 0.97;
  s.socket_send = 0.03;
  Sample r = receiver();
  r.socket_recv = 0.3;
  r.cpu_run = 0.7;
  EXPECT_EQ(judge(s, r).limit, "sender-cpu");
  // A busy receiver that keeps the sender waiting for its window.
  Sample s2 = sender();
  s2.socket_send = 0.6;
  s2.tcp_rwnd_limited = 0.4;
  s2.tcp_busy = 1.0;
  Sample r2 = receiver();
  r2.cpu_run = 0.9;
  EXPECT_EQ(judge(s2, r2).limit, "receiver-cpu");
}

// The chrono counts a window-held flow only between ACKs; a flow whose
// data in flight fills the peer's window (its cwnd would allow more) is
// held by that window even when the chrono reads low. Such a snapshot,
// read from a peer's STATS, is judged the same.
TEST(Judge, DataInFlightFillingTheWindowIsTheReceiveWindow) {
  Sample s = sender();
  s.socket_send = 0.9;
  s.tcp_busy = 1.0;
  s.tcp_rwnd_limited = 0.1;
  s.tcp.snd_wnd = 1389760;
  s.tcp.snd_cwnd = 2000;
  s.tcp.snd_mss = 1448;
  s.tcp.outq = 3000000;
  s.tcp.outq_unsent = 3000000 - 1389760;
  Sample r = receiver();
  r.socket_recv = 0.95;
  EXPECT_EQ(judge(s, r).limit, "network");  // window_full not derived yet
  auto parsed = Sample::from_json(s.to_json());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->window_full, 1);
  EXPECT_EQ(judge(*parsed, r).limit, "receive-window");
  // A congestion window under the peer's window: the path holds it.
  s.tcp.snd_cwnd = 900;
  parsed = Sample::from_json(s.to_json());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->window_full, 0);
  EXPECT_EQ(judge(*parsed, r).limit, "network");
  // Less than 90% of the window in flight: not held by it.
  s.tcp.snd_cwnd = 2000;
  s.tcp.outq_unsent = 3000000 - 1200000;
  EXPECT_EQ(Sample::from_json(s.to_json())->window_full, 0);
}

TEST(Judge, SendBufferAndItsAdvice) {
  Sample s = sender();
  s.socket_send = 0.9;
  s.tcp_busy = 1.0;
  s.tcp_sndbuf_limited = 0.8;
  s.tcp.sndbuf = 65536;
  Sample r = receiver();
  r.socket_recv = 0.9;
  Verdict v = judge(s, r);
  EXPECT_EQ(v.limit, "send-buffer");
  EXPECT_NE(v.advice.find("wmem"), std::string::npos) << v.advice;
}

TEST(Judge, ParallelStreamsAreAdvisedOnlyOnALongPath) {
  Sample s = sender();
  s.socket_send = 0.95;
  s.tcp_busy = 1.0;
  s.tcp.min_rtt_us = 200;  // a short path at its rate (tbf)
  Sample r = receiver();
  r.socket_recv = 0.95;
  Verdict v = judge(s, r);
  EXPECT_EQ(v.limit, "network");
  EXPECT_EQ(v.advice.find("-P"), std::string::npos) << v.advice;
  s.tcp.min_rtt_us = 100000;
  v = judge(s, r);
  EXPECT_NE(v.advice.find("-P 4"), std::string::npos) << v.advice;
}

TEST(Judge, AnOlderPeersSampleWithoutCpuFieldsStillParses) {
  nlohmann::json j = sender().to_json();
  for (const char* k : {"cpu_run", "cpu_wait", "cpu_throttled", "cpu_process", "app_buffered"})
    j.erase(k);
  auto s = Sample::from_json(j);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cpu_run, 0);
  j["cpu_wait"] = 7;  // a share over 1
  EXPECT_FALSE(Sample::from_json(j));
  j["cpu_wait"] = 0;
  j["interval"] = 5e-324;  // would make the rate infinite
  EXPECT_FALSE(Sample::from_json(j));
  j["interval"] = 0.2;
  j["app_buffered"] = 1.8e19;  // past 2^53: no buffer, and not exact in a double
  EXPECT_FALSE(Sample::from_json(j));
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(CpuWatch, ParsesSchedstatAndBothCpuStatFormats) {
  auto t = parse_schedstat("247614506 2672650 19\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->run_ns, 247614506u);
  EXPECT_EQ(t->wait_ns, 2672650u);
  EXPECT_FALSE(parse_schedstat("garbage"));
  EXPECT_FALSE(parse_schedstat(""));
  EXPECT_EQ(parse_throttled_ns("nr_periods 11\nnr_throttled 11\nthrottled_time 1047640798\n"),
            1047640798u);
  EXPECT_EQ(parse_throttled_ns("usage_usec 5\nnr_throttled 3\nthrottled_usec 2500\n"), 2500000u);
  EXPECT_FALSE(parse_throttled_ns("usage_usec 5\nuser_usec 3\n"));  // v2 without the controller
}

TEST(CpuWatch, FindsTheGroupAndItsAncestorsInEveryCpuHierarchy) {
  // This machine's hybrid layout: v1 "cpu", and a v2 tree without it.
  const char* mountinfo =
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  auto paths = cpu_stat_paths("2:cpuacct:/\n1:cpu:/a/b\n0::/x\n", mountinfo);
  std::vector<std::string> want = {"/sys/fs/cgroup/cpu/a/b/cpu.stat",
                                   "/sys/fs/cgroup/cpu/a/cpu.stat", "/sys/fs/cgroup/cpu/cpu.stat",
                                   "/sys/fs/cgroup/unified/x/cpu.stat",
                                   "/sys/fs/cgroup/unified/cpu.stat"};
  EXPECT_EQ(paths, want);
  // Pure v2, inside a container whose cgroup namespace root is /pod/c1.
  auto inside = cpu_stat_paths(
      "0::/pod/c1/work\n",
      "99 98 0:40 /pod/c1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  std::vector<std::string> want_inside = {"/sys/fs/cgroup/work/cpu.stat",
                                          "/sys/fs/cgroup/cpu.stat"};
  EXPECT_EQ(inside, want_inside);
  EXPECT_TRUE(cpu_stat_paths("", "").empty());
}

}  // namespace
}  // namespace ferry
