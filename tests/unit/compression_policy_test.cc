// CompressionPolicy: when a sync's sender compresses (auto, -z, --no-compress).
#include "ferry/compression_policy.h"

#include <gtest/gtest.h>

#include "ferry/messages.h"

namespace ferry {
namespace {

Verdict limit(const char* what) {
  Verdict v;
  v.limit = what;
  return v;
}

// The sender's sample at time `t`, its busiest thread on a CPU `cpu` of it.
Sample at(double t, double cpu = 0.1) {
  Sample s;
  s.role = "sender";
  s.t = t;
  s.cpu_run = cpu;
  return s;
}

constexpr uint64_t kMiB = 1 << 20;

TEST(CompressionPolicy, OnAndOffAreFixed) {
  CompressionPolicy on(CompressMode::kOn), off(CompressMode::kOff);
  on.observe(limit("sender-cpu"), at(1, 1.0));
  off.observe(limit("network"), at(1));
  on.record(100 * kMiB, 100 * kMiB);  // even data that never shrinks
  EXPECT_TRUE(on.active());
  EXPECT_FALSE(off.active());
}

TEST(CompressionPolicy, AutoStartsOffAndWaitsForTheNetworkToBeTheLimit) {
  CompressionPolicy p(CompressMode::kAuto);
  EXPECT_FALSE(p.active());
  for (const char* l :
       {"balanced", "receive-window", "sink-write", "source-read", "receiver-cpu"}) {
    p.observe(limit(l), at(1));
    EXPECT_FALSE(p.active()) << l;
  }
  p.observe(limit("network"), at(2, /*cpu=*/0.9));  // no CPU to spare
  EXPECT_FALSE(p.active());
  p.observe(limit("network"), at(3));
  EXPECT_TRUE(p.active());
}

TEST(CompressionPolicy, AFullSendBufferCountsAsTheWire) {
  CompressionPolicy p(CompressMode::kAuto);
  p.observe(limit("send-buffer"), at(1));
  EXPECT_TRUE(p.active());
}

TEST(CompressionPolicy, ASampleAlreadySeenChangesNothing) {
  CompressionPolicy p(CompressMode::kAuto);
  p.observe(limit("balanced"), at(1));
  EXPECT_TRUE(p.seen(at(1)));
  p.observe(limit("network"), at(1));  // the same interval, judged again
  EXPECT_FALSE(p.active());
}

TEST(CompressionPolicy, GoesOffWhenItsOwnCpuBecomesTheLimitAndPauses) {
  CompressionPolicy p(CompressMode::kAuto);
  p.observe(limit("network"), at(1));
  ASSERT_TRUE(p.active());
  p.observe(limit("sender-cpu"), at(2, 1.0));
  EXPECT_FALSE(p.active());
  // Uncompressed, the network is the limit again at once: not before the pause.
  p.observe(limit("network"), at(3));
  EXPECT_FALSE(p.active());
  p.record(CompressionPolicy::kFirstPause - 1, CompressionPolicy::kFirstPause - 1);
  p.observe(limit("network"), at(4));
  EXPECT_FALSE(p.active());
  p.record(1, 1);
  p.observe(limit("network"), at(5));
  EXPECT_TRUE(p.active());
}

TEST(CompressionPolicy, DataThatDoesNotShrinkTurnsItOffForLongerEachTime) {
  CompressionPolicy p(CompressMode::kAuto);
  p.observe(limit("network"), at(1));
  ASSERT_TRUE(p.active());
  p.record(CompressionPolicy::kJudgeBytes, CompressionPolicy::kJudgeBytes * 95 / 100);
  EXPECT_FALSE(p.active());
  p.record(CompressionPolicy::kFirstPause, CompressionPolicy::kFirstPause);
  p.observe(limit("network"), at(2));
  ASSERT_TRUE(p.active());
  p.record(CompressionPolicy::kJudgeBytes, CompressionPolicy::kJudgeBytes);
  EXPECT_FALSE(p.active());
  // The second pause is twice the first.
  p.record(CompressionPolicy::kFirstPause, CompressionPolicy::kFirstPause);
  p.observe(limit("network"), at(3));
  EXPECT_FALSE(p.active());
  p.record(CompressionPolicy::kFirstPause, CompressionPolicy::kFirstPause);
  p.observe(limit("network"), at(4));
  EXPECT_TRUE(p.active());
}

TEST(CompressionPolicy, DataThatShrinksKeepsItOn) {
  CompressionPolicy p(CompressMode::kAuto);
  p.observe(limit("network"), at(1));
  for (int i = 0; i < 10; ++i) p.record(CompressionPolicy::kJudgeBytes, kMiB);
  p.observe(limit("network"), at(2));
  EXPECT_TRUE(p.active());
}

TEST(CompressionPolicy, RequestFlagsRoundTrip) {
  for (auto m : {CompressMode::kOff, CompressMode::kOn, CompressMode::kAuto})
    EXPECT_EQ(compress_mode_of(request_flags_for(m) | kFlagSync), m) << name_of(m);
  EXPECT_EQ(compress_mode_of(kFlagCompressAuto), CompressMode::kOff);  // auto needs compress
}

}  // namespace
}  // namespace ferry
