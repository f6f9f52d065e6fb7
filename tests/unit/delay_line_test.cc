// The delay line's pure parts: the queue arithmetic (departures, tail drop,
// loss, order), the packet ring, GSO frame sizes and argument parsing.
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include <gtest/gtest.h>

#include "tools/delay_line/cli_values.h"
#include "tools/delay_line/delay_queue.h"
#include "tools/delay_line/packet_ring.h"
#include "tools/delay_line/vnet_frame.h"

namespace delay_line {
namespace {

constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000 * kUs;

// 8 Mbit/s: one byte per microsecond, so serialization times are easy to read.
constexpr uint64_t kBytePerUs = 8'000'000;

DelayConfig config(int64_t delay, uint64_t rate = 0, uint64_t limit = 1 << 30, double loss = 0) {
  DelayConfig c;
  c.delay_ns = delay;
  c.rate_bps = rate;
  c.limit_bytes = limit;
  c.loss = loss;
  c.seed = 42;
  return c;
}

TEST(DelayQueue, DelayOnlyDepartsAfterTheDelay) {
  DelayQueue q(config(50 * kMs));
  EXPECT_FALSE(q.next_departure());
  ASSERT_EQ(q.offer(0, 1500), Verdict::kQueued);
  ASSERT_EQ(q.offer(3 * kMs, 60), Verdict::kQueued);
  EXPECT_EQ(q.next_departure(), 50 * kMs);
  EXPECT_FALSE(q.pop_due(50 * kMs - 1));
  auto first = q.pop_due(50 * kMs);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->departure_ns, 50 * kMs);
  EXPECT_EQ(first->wire_bytes, 1500u);
  EXPECT_EQ(q.next_departure(), 53 * kMs);
  EXPECT_FALSE(q.pop_due(53 * kMs - 1));
  EXPECT_TRUE(q.pop_due(60 * kMs));
  EXPECT_EQ(q.packets(), 0u);
  EXPECT_EQ(q.held_bytes(), 0u);
}

TEST(DelayQueue, RateSerializesThenDelays) {
  DelayQueue q(config(10 * kMs, kBytePerUs));
  ASSERT_EQ(q.offer(0, 1000), Verdict::kQueued);         // link busy until 1 ms
  ASSERT_EQ(q.offer(0, 1000), Verdict::kQueued);         // waits: until 2 ms
  ASSERT_EQ(q.offer(500 * kUs, 500), Verdict::kQueued);  // until 2.5 ms
  ASSERT_EQ(q.offer(5 * kMs, 1000), Verdict::kQueued);   // idle link again: until 6 ms
  std::vector<int64_t> departures;
  while (auto p = q.pop_due(INT64_MAX)) departures.push_back(p->departure_ns);
  EXPECT_EQ(departures, (std::vector<int64_t>{11 * kMs, 12 * kMs, 12'500 * kUs, 16 * kMs}));
}

TEST(DelayQueue, TailDropsBeyondTheLimit) {
  DelayQueue q(config(10 * kMs, kBytePerUs, 3000));
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueued);
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueued);
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueued);  // exactly the limit
  EXPECT_EQ(q.backlog_bytes(0), 3000u);
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueueFull);
  EXPECT_EQ(q.offer(0, 1), Verdict::kQueueFull);
  // 1 ms later the link has sent 1000 bytes: room for 1000 more.
  EXPECT_EQ(q.backlog_bytes(1 * kMs), 2000u);
  EXPECT_EQ(q.offer(1 * kMs, 1000), Verdict::kQueued);
  EXPECT_EQ(q.offer(1 * kMs, 1), Verdict::kQueueFull);
  // Bytes on the wire (serialized, still in the delay) do not count.
  EXPECT_EQ(q.backlog_bytes(4 * kMs), 0u);
  EXPECT_EQ(q.offer(4 * kMs, 3000), Verdict::kQueued);
  EXPECT_EQ(q.packets(), 5u);
}

TEST(DelayQueue, AnEmptyQueueTakesAPacketLargerThanTheLimit) {
  DelayQueue q(config(kMs, kBytePerUs, 100));
  EXPECT_EQ(q.offer(0, 65000), Verdict::kQueued);
  EXPECT_EQ(q.offer(0, 10), Verdict::kQueueFull);
}

TEST(DelayQueue, WithoutARateTheLimitCountsEverythingHeld) {
  DelayQueue q(config(10 * kMs, 0, 2500));
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueued);
  EXPECT_EQ(q.offer(0, 1000), Verdict::kQueued);
  EXPECT_EQ(q.offer(1 * kMs, 1000), Verdict::kQueueFull);
  EXPECT_EQ(q.held_bytes(), 2000u);
  ASSERT_TRUE(q.pop_due(10 * kMs));
  EXPECT_EQ(q.offer(10 * kMs, 1000), Verdict::kQueued);
}

TEST(DelayQueue, LossIsNearTheConfiguredRateAndRepeatable) {
  constexpr int kPackets = 200'000;
  auto losses = [](double p, uint64_t seed) {
    DelayConfig c = config(kMs, 0, UINT64_MAX, p);
    c.seed = seed;
    DelayQueue q(c);
    std::vector<bool> lost;
    for (int i = 0; i < kPackets; ++i) {
      lost.push_back(q.offer(i, 100) == Verdict::kLost);
      (void)q.pop_due(INT64_MAX);
    }
    return lost;
  };
  auto count = [](const std::vector<bool>& v) {
    return static_cast<double>(std::count(v.begin(), v.end(), true));
  };
  auto five = losses(0.05, 7);
  // The standard deviation of the count is sqrt(n p (1-p)) ~ 97: 10 of them.
  EXPECT_NEAR(count(five), 0.05 * kPackets, 1000);
  EXPECT_EQ(losses(0.05, 7), five);  // the same seed, the same packets
  EXPECT_NE(losses(0.05, 8), five);
  EXPECT_EQ(count(losses(0, 7)), 0);
  EXPECT_EQ(count(losses(1, 7)), kPackets);
  EXPECT_NEAR(count(losses(0.001, 7)), 0.001 * kPackets, 100);
}

TEST(DelayQueue, PacketsLeaveInTheOrderTheyCame) {
  DelayQueue q(config(20 * kMs, 100'000'000, 200'000, 0.01));
  uint64_t state = 1;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  std::deque<uint64_t> sent;
  int64_t now = 0, last_departure = 0;
  for (int i = 0; i < 50'000; ++i) {
    now += static_cast<int64_t>(next() >> 54);  // 0 to 1 ms apart
    uint64_t size = 40 + (next() >> 48) % 65000;
    if (q.offer(now, size) == Verdict::kQueued) sent.push_back(size);
    if (i % 7 == 0) {
      while (auto p = q.pop_due(now)) {
        ASSERT_FALSE(sent.empty());
        EXPECT_EQ(p->wire_bytes, sent.front());
        EXPECT_GE(p->departure_ns, last_departure);
        EXPECT_LE(p->departure_ns, now);
        last_departure = p->departure_ns;
        sent.pop_front();
      }
    }
  }
  EXPECT_GT(q.held_bytes(), 0u);
}

TEST(DelayQueue, MaxHeldBytesCoversTheLimitAndTheWire) {
  DelayQueue rated(config(50 * kMs, 1'000'000'000, 4 << 20));
  // 50 ms at 1 Gbit/s is 6.25 MB on the wire.
  EXPECT_EQ(rated.max_held_bytes(100), (4u << 20) + 6'250'000 + 1 + 200);
  DelayQueue unrated(config(50 * kMs, 0, 4 << 20));
  EXPECT_EQ(unrated.max_held_bytes(100), (4u << 20) + 200);
}

// Fills each reserved packet with its sequence number, to check what comes back.
void fill(std::span<uint8_t> room, size_t len, uint8_t seq) {
  std::memset(room.data(), seq, len);
}

TEST(PacketRing, KeepsPacketsInOrderAcrossWraps) {
  constexpr size_t kMax = 100;
  PacketRing ring(1000, kMax);
  std::deque<std::pair<size_t, uint8_t>> held;  // length, sequence
  uint8_t seq = 0;
  uint64_t state = 3;
  for (int step = 0; step < 20'000; ++step) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    if ((state >> 60) < 9) {  // push a little more often than pop
      auto room = ring.reserve();
      if (room.empty()) {
        EXPECT_GE(ring.bytes(), 1000 - 3 * kMax) << "refused while nearly empty";
        continue;
      }
      ASSERT_EQ(room.size(), kMax);
      size_t len = 1 + (state >> 20) % kMax;
      fill(room, len, seq);
      if ((state >> 40) % 5 == 0) continue;  // dropped: never committed
      ring.commit(len);
      held.emplace_back(len, seq++);
    } else if (!held.empty()) {
      auto front = ring.front();
      ASSERT_EQ(front.size(), held.front().first);
      for (uint8_t b : front) ASSERT_EQ(b, held.front().second);
      ring.pop();
      held.pop_front();
    }
    ASSERT_EQ(ring.packets(), held.size());
  }
}

TEST(PacketRing, AnEmptyRingStartsAgainAtTheFront) {
  PacketRing ring(300, 100);
  auto first = ring.reserve();
  ring.commit(100);
  (void)ring.reserve();
  ring.commit(100);
  ring.pop();
  ring.pop();
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.reserve().data(), first.data());
}

// A frame: a vnet header, an IPv4 header (20 bytes), a TCP header of
// `tcp_header` bytes, and `payload` bytes.
std::vector<uint8_t> frame(size_t tcp_header, size_t payload, uint16_t gso_size) {
  std::vector<uint8_t> f(kVnetHeaderSize + 20 + tcp_header + payload);
  f[0] = 1;                                    // NEEDS_CSUM
  f[1] = gso_size ? 1 : 0;                     // GSO_TCPV4
  uint16_t fields[4] = {0, gso_size, 20, 16};  // hdr_len, gso_size, csum_start, csum_offset
  std::memcpy(f.data() + 2, fields, sizeof fields);
  f[kVnetHeaderSize + 20 + 12] = static_cast<uint8_t>((tcp_header / 4) << 4);
  return f;
}

TEST(VnetFrame, WireBytesCountRepeatedHeadersOfGsoSegments) {
  EXPECT_EQ(wire_bytes(frame(20, 1400, 0)), 20u + 20 + 1400);
  // Three segments of 1448 plus one of 100: each repeats 20 + 32 header bytes.
  EXPECT_EQ(wire_bytes(frame(32, 3 * 1448 + 100, 1448)), 52u + 3 * 1448 + 100 + 3 * 52);
  EXPECT_EQ(wire_bytes(frame(32, 1448, 1448)), 52u + 1448);
  std::vector<uint8_t> short_frame(kVnetHeaderSize - 1);
  EXPECT_EQ(wire_bytes(short_frame), 0u);
  std::vector<uint8_t> header_only(kVnetHeaderSize);
  EXPECT_EQ(wire_bytes(header_only), 0u);
}

TEST(CliValues, Durations) {
  EXPECT_EQ(parse_duration_ns("50ms"), 50 * kMs);
  EXPECT_EQ(parse_duration_ns("0.5s"), 500 * kMs);
  EXPECT_EQ(parse_duration_ns("250us"), 250 * kUs);
  EXPECT_EQ(parse_duration_ns("1500ns"), 1500);
  EXPECT_EQ(parse_duration_ns("0"), 0);
  EXPECT_EQ(parse_duration_ns("3600s"), 3600'000 * kMs);
  for (const char* bad : {"", "-5ms", "5", "ms", "1.5.5ms", "3601s", "1h", "5 ms", "+5ms", "1e3ms"})
    EXPECT_FALSE(parse_duration_ns(bad)) << bad;
}

TEST(CliValues, Rates) {
  EXPECT_EQ(parse_rate_bps("1gbit"), 1'000'000'000u);
  EXPECT_EQ(parse_rate_bps("100Mbit"), 100'000'000u);
  EXPECT_EQ(parse_rate_bps("1.5gbit"), 1'500'000'000u);
  EXPECT_EQ(parse_rate_bps("64kbit"), 64'000u);
  for (const char* bad : {"", "fast", "1gbps", "100", "1bit", "-1gbit", "2tbit", "gbit"})
    EXPECT_FALSE(parse_rate_bps(bad)) << bad;
}

TEST(CliValues, LossAndAddresses) {
  EXPECT_DOUBLE_EQ(*parse_loss("5%"), 0.05);
  EXPECT_DOUBLE_EQ(*parse_loss("0.1"), 0.001);
  EXPECT_DOUBLE_EQ(*parse_loss("100"), 1.0);
  for (const char* bad : {"", "%", "101", "-1", "abc", "5%%"}) EXPECT_FALSE(parse_loss(bad)) << bad;
  auto p = parse_ipv4_prefix("10.204.3.1/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, 0x0acc0301u);
  EXPECT_EQ(p->length, 24);
  for (const char* bad : {"10.204.3.1", "/24", "10.204.3.1/31", "10.204.3.1/0", "300.1.1.1/24",
                          "10.204.3.1/24x", "::1/64"})
    EXPECT_FALSE(parse_ipv4_prefix(bad)) << bad;
}

TEST(CliValues, TwoHostsOfOneSubnet) {
  auto p = [](const char* text) { return *parse_ipv4_prefix(text); };
  EXPECT_TRUE(two_hosts_of_one_subnet(p("10.204.3.1/24"), p("10.204.3.2/24")));
  EXPECT_TRUE(two_hosts_of_one_subnet(p("10.204.3.1/30"), p("10.204.3.2/30")));
  EXPECT_FALSE(two_hosts_of_one_subnet(p("10.204.3.1/24"), p("10.204.3.1/24")));
  EXPECT_FALSE(two_hosts_of_one_subnet(p("10.204.3.1/24"), p("10.204.4.2/24")));
  EXPECT_FALSE(two_hosts_of_one_subnet(p("10.204.3.1/24"), p("10.204.3.2/25")));
  EXPECT_FALSE(two_hosts_of_one_subnet(p("10.204.3.0/24"), p("10.204.3.2/24")));
  EXPECT_FALSE(two_hosts_of_one_subnet(p("10.204.3.1/24"), p("10.204.3.255/24")));
}

TEST(CliValues, Names) {
  EXPECT_TRUE(valid_netns_name("dlt1a"));
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) EXPECT_FALSE(valid_netns_name(bad)) << bad;
  EXPECT_TRUE(valid_device_name("delay-a"));
  for (const char* bad : {"", "sixteen-letters!", "a b", "a/b", "a:1", ".."})
    EXPECT_FALSE(valid_device_name(bad)) << bad;
}

}  // namespace
}  // namespace delay_line
