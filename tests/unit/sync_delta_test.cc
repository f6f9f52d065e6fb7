// ferry sync's delta engine: block size, rolling sum and signatures, the
// matcher, the applier, and whole round trips old + new -> ops -> new.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/sys.h"
#include "ferry/sync/delta_apply.h"
#include "ferry/sync/delta_block_size.h"
#include "ferry/sync/delta_match.h"
#include "ferry/sync/delta_signature.h"
#include "tests/support/test_support.h"

namespace ferry::sync {
namespace {

constexpr uint64_t kNoWindow = std::numeric_limits<uint64_t>::max();

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    for (int k = 0; k < 8; ++k) s[i + k] = static_cast<char>(v >> (8 * k));
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

base::UniqueFd memfd_with(const std::string& content) {
  auto fd = base::sys::memfd_create("delta-test", 0);
  EXPECT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(base::sys::pwrite_all(fd->get(), content.data(), content.size(), 0));
  return std::move(*fd);
}

std::string read_all(int fd, size_t size) {
  std::string s(size, '\0');
  size_t got = 0;
  while (got < size) {
    auto n = base::sys::pread(fd, s.data() + got, size - got, static_cast<off_t>(got));
    EXPECT_TRUE(n);
    if (!n || *n == 0) break;
    got += *n;
  }
  s.resize(got);
  return s;
}

std::vector<BlockSum> signature_of(const std::string& old_data, uint32_t bs) {
  auto fd = memfd_with(old_data);
  SignatureReader reader(fd.get(), old_data.size(), bs);
  std::vector<BlockSum> all, batch;
  for (;;) {
    auto n = reader.next(batch, 1000);
    EXPECT_TRUE(n) << n.error().message();
    if (!n || *n == 0) break;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

struct Options {
  uint32_t block_size = 0;  // 0: block_size_for(old size)
  uint64_t window = kNoWindow;
  size_t chunk = 65536;
  size_t sum_batch = 37;
  bool all_sums_first = false;
};

struct Outcome {
  std::string rebuilt;
  uint64_t matched = 0;
  uint64_t literal = 0;
  std::vector<std::pair<uint64_t, uint32_t>> copies;
  size_t literal_ops = 0;
  uint32_t block_size = 0;
  uint64_t max_live = 0;  // most blocks the matcher held at once
};

// old -> signature (through its wire form, in batches) -> matcher fed `chunk`
// bytes at a time, sums added as ready_for asks -> applier -> rebuilt file.
Outcome round_trip(const std::string& old_data, const std::string& new_data, Options o = {}) {
  Outcome r;
  uint32_t bs = o.block_size != 0 ? o.block_size : block_size_for(old_data.size());
  r.block_size = bs;
  auto old_fd = memfd_with(old_data);
  auto new_fd = memfd_with("");
  SignatureReader reader(old_fd.get(), old_data.size(), bs);
  DeltaMatcher matcher(bs, old_data.size(), o.window);
  DeltaApplier applier(old_fd.get(), old_data.size(), bs, new_fd.get(), new_data.size());
  EXPECT_EQ(matcher.block_count(), reader.block_count());

  std::vector<BlockSum> batch;
  auto add_batch = [&]() {
    auto n = reader.next(batch, o.sum_batch);
    EXPECT_TRUE(n) << n.error().message();
    if (!n || *n == 0) return false;
    std::string wire;
    append_block_sums(wire, batch);
    auto parsed = parse_block_sums(wire);
    EXPECT_TRUE(parsed);
    EXPECT_EQ(*parsed, batch);
    matcher.add_blocks(*parsed);
    return true;
  };
  if (o.all_sums_first) {
    while (add_batch()) {
    }
  }

  bool prev_was_copy = false;
  uint64_t prev_end = 0;
  DeltaSink sink = [&](const DeltaOp& op) -> base::Status {
    if (op.kind == DeltaOp::Kind::copy) {
      EXPECT_GE(op.blocks, 1u);
      if (prev_was_copy) {
        EXPECT_NE(op.block, prev_end) << "adjacent copies not merged";
      }
      prev_was_copy = true;
      prev_end = op.block + op.blocks;
      r.copies.emplace_back(op.block, op.blocks);
      return applier.copy(op.block, op.blocks);
    }
    EXPECT_GT(op.literal.size(), 0u);
    EXPECT_LE(op.literal.size(), DeltaMatcher::kMaxLiteral);
    prev_was_copy = false;
    ++r.literal_ops;
    return applier.literal(op.literal);
  };

  auto data = bytes_of(new_data);
  for (size_t off = 0; off < data.size();) {
    size_t n = std::min(o.chunk, data.size() - off);
    while (!matcher.ready_for(off + n) && add_batch()) {
    }
    EXPECT_TRUE(matcher.ready_for(off + n));
    r.max_live = std::max(r.max_live, matcher.blocks_live());
    auto st = matcher.feed(data.subspan(off, n), sink);
    EXPECT_TRUE(st) << st.error().message();
    r.max_live = std::max(r.max_live, matcher.blocks_live());
    off += n;
  }
  auto st = matcher.finish(sink);
  EXPECT_TRUE(st) << st.error().message();
  r.matched = matcher.matched_bytes();
  r.literal = matcher.literal_bytes();
  EXPECT_EQ(r.matched + r.literal, new_data.size());
  EXPECT_EQ(applier.written(), new_data.size());
  r.rebuilt = read_all(new_fd.get(), new_data.size() + 1);
  return r;
}

// --- DeltaBlockSize --------------------------------------------------------

TEST(DeltaBlockSize, SmallFilesGetTheMinimum) {
  EXPECT_EQ(block_size_for(0), 700u);
  EXPECT_EQ(block_size_for(1), 700u);
  EXPECT_EQ(block_size_for(700 * 700), 700u);
  EXPECT_EQ(block_size_for(704 * 704 - 1), 700u);
  EXPECT_EQ(block_size_for(708 * 708 - 1), 704u);
}

TEST(DeltaBlockSize, SquareRootRoundedDownToEight) {
  EXPECT_EQ(block_size_for(1 << 20), 1024u);
  EXPECT_EQ(block_size_for(1000 * 1000), 1000u);
  EXPECT_EQ(block_size_for(1007 * 1007), 1000u);
  EXPECT_EQ(block_size_for(1008 * 1008), 1008u);
  EXPECT_EQ(block_size_for(100'000'000), 10000u);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    uint64_t size = rng() >> (rng() % 40 + 24);
    uint64_t bs = block_size_for(size);
    if (bs == 700 || bs == 131072) continue;
    EXPECT_EQ(bs % 8, 0u);
    EXPECT_LE(bs * bs, size);
    EXPECT_GT((bs + 8) * (bs + 8), size);
  }
}

TEST(DeltaBlockSize, LargeFilesGetTheMaximum) {
  EXPECT_EQ(block_size_for((uint64_t{1} << 34) - 1), 131064u);
  EXPECT_EQ(block_size_for(uint64_t{1} << 34), 131072u);
  EXPECT_EQ(block_size_for(uint64_t{100} << 30), 131072u);
  EXPECT_EQ(block_size_for(std::numeric_limits<uint64_t>::max()), 131072u);
  EXPECT_FALSE(block_size_acceptable(0));
  EXPECT_TRUE(block_size_acceptable(1));
  EXPECT_TRUE(block_size_acceptable(131072));
  EXPECT_FALSE(block_size_acceptable(131073));
}

// --- DeltaRolling ----------------------------------------------------------

TEST(DeltaRolling, KnownValue) {
  const uint8_t bytes[] = {1, 2, 3};
  // a = 6, b = 3*1 + 2*2 + 1*3 = 10
  EXPECT_EQ(RollingSum::of(bytes), 6u | (10u << 16));
  const uint8_t high[] = {255, 255};
  EXPECT_EQ(RollingSum::of(high), 510u | ((3u * 255) << 16));
  EXPECT_EQ(RollingSum::of({}), 0u);
}

TEST(DeltaRolling, RollEqualsRecomputeAtEveryOffset) {
  std::string data = random_bytes(20000, 1);
  auto d = bytes_of(data);
  for (uint32_t n : {1u, 7u, 700u, 4096u}) {
    RollingSum s(d.first(n));
    for (size_t p = 0; p + n < d.size(); ++p) {
      s.roll(d[p], d[p + n]);
      ASSERT_EQ(s.value(), RollingSum::of(d.subspan(p + 1, n))) << "n " << n << " p " << p;
    }
  }
}

TEST(DeltaRolling, WireFormRoundTripsAndRefusesBadLengths) {
  std::vector<BlockSum> sums;
  for (int i = 0; i < 5; ++i) sums.push_back(block_sum(bytes_of(random_bytes(100 + i, i))));
  std::string wire = "x";
  append_block_sums(wire, sums);
  ASSERT_EQ(wire.size(), 1 + 5 * kBlockSumWireSize);
  EXPECT_EQ(static_cast<uint8_t>(wire[1]), sums[0].weak >> 24);
  EXPECT_EQ(static_cast<uint8_t>(wire[4]), sums[0].weak & 0xff);
  auto parsed = parse_block_sums(std::string_view(wire).substr(1));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, sums);
  EXPECT_FALSE(parse_block_sums(std::string_view(wire).substr(2)));
  EXPECT_FALSE(parse_block_sums(wire));
  auto empty = parse_block_sums("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(DeltaRolling, SignatureReaderBatchesAndShortLastBlock) {
  std::string data = random_bytes(10 * 1000 + 123, 3);
  auto fd = memfd_with(data);
  SignatureReader reader(fd.get(), data.size(), 1000);
  EXPECT_EQ(reader.block_count(), 11u);
  std::vector<BlockSum> batch, all;
  std::vector<size_t> sizes;
  for (;;) {
    auto n = reader.next(batch, 4);
    ASSERT_TRUE(n);
    if (*n == 0) break;
    sizes.push_back(*n);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 3}));
  ASSERT_EQ(all.size(), 11u);
  auto d = bytes_of(data);
  EXPECT_EQ(all[0], block_sum(d.first(1000)));
  EXPECT_EQ(all[10], block_sum(d.subspan(10000)));
  EXPECT_EQ(all[10].strong, strong_sum(d.subspan(10000, 123)));
}

TEST(DeltaRolling, SignatureReaderFailsWhenFileIsShort) {
  std::string data = random_bytes(5000, 4);
  auto fd = memfd_with(data);
  SignatureReader reader(fd.get(), 9000, 1000);
  std::vector<BlockSum> batch;
  base::Result<size_t> n = size_t{0};
  do {
    n = reader.next(batch, 3);
  } while (n && *n > 0);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("ended at 5000"), std::string::npos) << n.error().message();
}

TEST(DeltaRolling, EmptyFileHasNoBlocks) {
  auto fd = memfd_with("");
  SignatureReader reader(fd.get(), 0, 700);
  std::vector<BlockSum> batch;
  auto n = reader.next(batch, 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
}

// --- DeltaRoundTrip --------------------------------------------------------

TEST(DeltaRoundTrip, Identical) {
  std::string old_data = random_bytes(3 * 1000 * 1000 + 17, 10);
  auto r = round_trip(old_data, old_data);
  EXPECT_EQ(r.rebuilt, old_data);
  EXPECT_EQ(r.literal, 0u);
  EXPECT_EQ(r.matched, old_data.size());
  ASSERT_EQ(r.copies.size(), 1u);  // one run of every block, short last block included
  EXPECT_EQ(r.copies[0].first, 0u);
  EXPECT_EQ(r.copies[0].second, (old_data.size() + r.block_size - 1) / r.block_size);
}

TEST(DeltaRoundTrip, SmallIdenticalFileIsOneShortBlock) {
  std::string data = "hello, world";
  auto r = round_trip(data, data);
  EXPECT_EQ(r.rebuilt, data);
  EXPECT_EQ(r.matched, data.size());
}

TEST(DeltaRoundTrip, EmptyOld) {
  std::string new_data = random_bytes(3 * 1000 * 1000, 11);
  auto r = round_trip("", new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.matched, 0u);
  EXPECT_EQ(r.literal_ops, 3u);  // 1 MiB pieces
}

TEST(DeltaRoundTrip, EmptyNew) {
  auto r = round_trip(random_bytes(100000, 12), "");
  EXPECT_EQ(r.rebuilt, "");
  EXPECT_EQ(r.matched + r.literal, 0u);
  EXPECT_TRUE(r.copies.empty());
}

TEST(DeltaRoundTrip, BothEmpty) {
  auto r = round_trip("", "");
  EXPECT_EQ(r.rebuilt, "");
}

TEST(DeltaRoundTrip, OldShorter) {
  std::string new_data = random_bytes(2 << 20, 13);
  std::string old_data = new_data.substr(0, 1 << 20);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.matched, old_data.size());
  EXPECT_EQ(r.literal, new_data.size() - old_data.size());
}

TEST(DeltaRoundTrip, OldLonger) {
  std::string old_data = random_bytes(2 << 20, 14);
  std::string new_data = old_data.substr(0, (1 << 20) + 5);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_LT(r.literal, r.block_size);
}

TEST(DeltaRoundTrip, OneByteChangedInTheMiddle) {
  std::string old_data = random_bytes(4 << 20, 15);
  std::string new_data = old_data;
  new_data[new_data.size() / 2] ^= 0x5a;
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.literal, r.block_size);  // exactly the changed block
  EXPECT_EQ(r.copies.size(), 2u);
}

TEST(DeltaRoundTrip, InsertNearStartOfLargeFile) {
  std::string old_data = random_bytes(8 << 20, 16);
  std::string new_data = old_data.substr(0, 5000) + random_bytes(100, 99) + old_data.substr(5000);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_LT(r.literal, 2 * r.block_size + 100);
  EXPECT_LE(r.copies.size(), 3u);
}

TEST(DeltaRoundTrip, BytesDeleted) {
  std::string old_data = random_bytes(3 << 20, 17);
  std::string new_data = old_data.substr(0, 1 << 20) + old_data.substr((1 << 20) + 3333);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_LT(r.literal, 2 * r.block_size);
}

TEST(DeltaRoundTrip, BlocksReordered) {
  const uint32_t bs = 1024;
  std::string old_data = random_bytes(64 * bs, 18);
  std::string new_data;
  for (int i = 63; i >= 0; --i) new_data += old_data.substr(i * bs, bs);
  auto r = round_trip(old_data, new_data, {.block_size = bs});
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.literal, 0u);
  EXPECT_EQ(r.copies.size(), 64u);
  EXPECT_EQ(r.copies.front(), (std::pair<uint64_t, uint32_t>{63, 1}));
}

TEST(DeltaRoundTrip, ExactMultipleOfBlockSizeAndNot) {
  const uint32_t bs = 1000;
  for (size_t size : {size_t{50 * bs}, size_t{50 * bs + 1}, size_t{50 * bs - 1}}) {
    std::string old_data = random_bytes(size, size);
    std::string new_data = "prefix" + old_data;
    auto r = round_trip(old_data, new_data, {.block_size = bs});
    EXPECT_EQ(r.rebuilt, new_data);
    EXPECT_EQ(r.literal, 6u) << size;
    EXPECT_EQ(r.copies.size(), 1u) << size;
  }
}

TEST(DeltaRoundTrip, ShortLastBlockMatchesOnlyAtTheEnd) {
  const uint32_t bs = 1000;
  std::string old_data = random_bytes(10 * bs + 300, 19);
  std::string tail = old_data.substr(10 * bs);
  // The short block's bytes in the middle of the new file are literal.
  std::string new_data = old_data.substr(0, 5 * bs) + tail + old_data.substr(5 * bs, 5 * bs);
  auto r = round_trip(old_data, new_data, {.block_size = bs});
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.literal, 300u);
}

TEST(DeltaRoundTrip, RandomDataWithNoMatch) {
  std::string old_data = random_bytes(2 << 20, 20);
  std::string new_data = random_bytes(3 << 20, 21);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_EQ(r.matched, 0u);
  EXPECT_EQ(r.literal_ops, 3u);
}

TEST(DeltaRoundTrip, AllZeroFilesStayFast) {
  std::string old_data(16 << 20, '\0');
  std::string new_data = old_data;
  new_data[1000] = 1;
  new_data[9 << 20] = 2;
  auto start = std::chrono::steady_clock::now();
  auto r = round_trip(old_data, new_data);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_LE(r.literal, 2u * r.block_size);
  EXPECT_LT(secs, 20.0);
  std::printf("all-zero 16 MiB round trip: %.3f s\n", secs);
}

TEST(DeltaRoundTrip, RepeatingPattern) {
  std::string unit = random_bytes(333, 22);
  std::string old_data;
  while (old_data.size() < (2 << 20)) old_data += unit;
  std::string new_data = "abc" + old_data.substr(0, 1 << 20) + "xyz" + old_data.substr(1 << 20);
  auto r = round_trip(old_data, new_data);
  EXPECT_EQ(r.rebuilt, new_data);
  EXPECT_LT(r.literal, 3u * r.block_size);
}

TEST(DeltaRoundTrip, OddChunkSizes) {
  std::string old_data = random_bytes(300000, 23);
  std::string new_data = old_data.substr(0, 100000) + "inserted" + old_data.substr(100000);
  new_data[250000] ^= 1;
  for (size_t chunk : {size_t{1}, size_t{4097}, size_t{700}, size_t{3 << 20}}) {
    auto r = round_trip(old_data, new_data, {.block_size = 700, .chunk = chunk});
    EXPECT_EQ(r.rebuilt, new_data) << chunk;
    EXPECT_LT(r.literal, 8u + 3 * 700) << chunk;
  }
}

TEST(DeltaRoundTrip, RandomEditsManySeeds) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::string old_data = random_bytes(rng() % 200000, seed);
    std::string new_data = old_data;
    for (int e = 0; e < 5; ++e) {
      size_t at = new_data.empty() ? 0 : rng() % new_data.size();
      switch (rng() % 3) {
        case 0:
          new_data.insert(at, random_bytes(rng() % 2000, rng()));
          break;
        case 1:
          new_data.erase(at, rng() % 2000);
          break;
        default:
          if (!new_data.empty()) new_data[at] ^= 0x11;
      }
    }
    // Unbounded, and a window just over the largest shift (5 edits of < 2000
    // bytes) with every sum added up front.
    auto r =
        round_trip(old_data, new_data,
                   {.block_size = 700 + static_cast<uint32_t>(seed), .chunk = 1 + rng() % 9000});
    EXPECT_EQ(r.rebuilt, new_data) << seed;
    auto w = round_trip(
        old_data, new_data,
        {.block_size = 700, .window = 12000, .chunk = 1 + rng() % 9000, .all_sums_first = true});
    EXPECT_EQ(w.rebuilt, new_data) << seed;
    EXPECT_LE(w.literal, 5 * 2000 + 10 * 700) << seed;
  }
}

// --- DeltaMatch ------------------------------------------------------------

TEST(DeltaMatch, ReadyFor) {
  DeltaMatcher m(1000, 10500, 2000);
  EXPECT_EQ(m.block_count(), 11u);
  EXPECT_FALSE(m.ready_for(0));
  std::vector<BlockSum> two(2);
  m.add_blocks(two);
  EXPECT_TRUE(m.ready_for(0));  // blocks at offsets < 2000
  EXPECT_FALSE(m.ready_for(1));
  std::vector<BlockSum> more(20);  // more than the file has: the rest ignored
  m.add_blocks(more);
  EXPECT_EQ(m.blocks_added(), 11u);
  EXPECT_TRUE(m.ready_for(std::numeric_limits<uint64_t>::max()));

  DeltaMatcher unbounded(1000, 10500, kNoWindow);
  EXPECT_FALSE(unbounded.ready_for(0));
  unbounded.add_blocks(std::span(more).first(10));
  EXPECT_FALSE(unbounded.ready_for(0));
  unbounded.add_blocks(std::span(more).first(1));
  EXPECT_TRUE(unbounded.ready_for(0));

  DeltaMatcher empty(700, 0, 0);
  EXPECT_EQ(empty.block_count(), 0u);
  EXPECT_TRUE(empty.ready_for(12345));
}

TEST(DeltaMatch, WindowEviction) {
  const uint32_t bs = 1024;
  std::string old_data = random_bytes(64 * bs, 30);
  // Block 2 moved forward to about 40 KiB; block 60 moved back to 1 KiB.
  std::string forward = old_data.substr(0, 2 * bs) + old_data.substr(3 * bs, 38 * bs) +
                        old_data.substr(2 * bs, bs) + old_data.substr(41 * bs);
  std::string backward = old_data.substr(0, bs) + old_data.substr(60 * bs, bs) +
                         old_data.substr(bs, 59 * bs) + old_data.substr(61 * bs);
  auto has_block = [](const Outcome& r, uint64_t b) {
    for (auto [first, n] : r.copies) {
      if (b >= first && b < first + n) return true;
    }
    return false;
  };
  for (bool all_first : {false, true}) {
    auto narrow = round_trip(old_data, forward,
                             {.block_size = bs, .window = 16 * bs, .all_sums_first = all_first});
    EXPECT_EQ(narrow.rebuilt, forward);
    EXPECT_FALSE(has_block(narrow, 2));
    EXPECT_EQ(narrow.literal, bs);  // everything else moved by at most a block
    auto wide = round_trip(old_data, forward,
                           {.block_size = bs, .window = 48 * bs, .all_sums_first = all_first});
    EXPECT_EQ(wide.rebuilt, forward);
    EXPECT_TRUE(has_block(wide, 2));
    EXPECT_EQ(wide.literal, 0u);

    auto back_narrow = round_trip(
        old_data, backward, {.block_size = bs, .window = 16 * bs, .all_sums_first = all_first});
    EXPECT_EQ(back_narrow.rebuilt, backward);
    EXPECT_FALSE(has_block(back_narrow, 60));
    auto back_wide = round_trip(old_data, backward,
                                {.block_size = bs, .window = 64 * bs, .all_sums_first = all_first});
    EXPECT_TRUE(has_block(back_wide, 60));
    EXPECT_EQ(back_wide.literal, 0u);
  }
}

TEST(DeltaMatch, WindowBoundsMemoryOnALongFile) {
  // 64 MiB in 4 KiB blocks with a 1 MiB window: the matcher never holds more
  // than the blocks of a few MiB, and still matches everything.
  const uint32_t bs = 4096;
  std::string old_data = random_bytes(64 << 20, 31);
  auto r = round_trip(old_data, old_data,
                      {.block_size = bs, .window = 1 << 20, .chunk = 1 << 20, .sum_batch = 64});
  EXPECT_EQ(r.rebuilt, old_data);
  EXPECT_EQ(r.literal, 0u);
  // Window behind + window ahead + one chunk + one batch of sums.
  EXPECT_LE(r.max_live, (3u << 20) / bs + 64 + 2);
  EXPECT_GT(r.max_live, (2u << 20) / bs);
  std::printf("64 MiB, 1 MiB window: at most %llu of %d blocks held\n",
              static_cast<unsigned long long>(r.max_live), (64 << 20) / bs);
}

TEST(DeltaMatch, SameWeakSumDifferentStrongIsNotQuadratic) {
  // Hostile signatures: 4000 blocks, all with the weak sum of a zero block,
  // none with its strong sum; the new file is all zeros, so every offset is a
  // weak hit on every block.
  const uint32_t bs = 700;
  const uint64_t blocks = 4000;
  std::vector<BlockSum> sums(blocks);
  std::string zeros(bs, '\0');
  uint32_t weak = RollingSum::of(bytes_of(zeros));
  std::mt19937_64 rng(5);
  for (auto& s : sums) {
    s.weak = weak;
    for (auto& b : s.strong) b = static_cast<uint8_t>(rng());
  }
  DeltaMatcher m(bs, blocks * bs, kNoWindow);
  m.add_blocks(sums);
  std::string new_data(8 << 20, '\0');
  uint64_t literal = 0;
  DeltaSink sink = [&](const DeltaOp& op) -> base::Status {
    EXPECT_EQ(op.kind, DeltaOp::Kind::literal);
    literal += op.literal.size();
    return {};
  };
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.feed(bytes_of(new_data), sink));
  ASSERT_TRUE(m.finish(sink));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(literal, new_data.size());
  EXPECT_EQ(m.matched_bytes(), 0u);
  EXPECT_LE(m.false_alarm_bytes(), DeltaMatcher::kFalseAlarmRatio * new_data.size() + 65 * bs);
  EXPECT_LT(secs, 10.0);
  std::printf("hostile equal-weak signatures, 8 MiB of zeros: %.3f s (%.0f MB/s)\n", secs,
              new_data.size() / secs / 1e6);
}

TEST(DeltaMatch, BadBlockSizeMeansAllLiteral) {
  for (uint32_t bs : {0u, kMaxBlockSize + 1}) {
    DeltaMatcher m(bs, 5000, kNoWindow);
    EXPECT_EQ(m.block_count(), 0u);
    std::string data = random_bytes(3000, 1);
    std::string out;
    DeltaSink sink = [&](const DeltaOp& op) -> base::Status {
      EXPECT_EQ(op.kind, DeltaOp::Kind::literal);
      out.append(reinterpret_cast<const char*>(op.literal.data()), op.literal.size());
      return {};
    };
    ASSERT_TRUE(m.feed(bytes_of(data), sink));
    ASSERT_TRUE(m.finish(sink));
    EXPECT_EQ(out, data);
  }
}

TEST(DeltaMatch, SinkErrorStopsTheMatcher) {
  std::string data = random_bytes(3 << 20, 2);
  DeltaMatcher m(700, 0, kNoWindow);
  DeltaSink sink = [](const DeltaOp&) -> base::Status { return base::fail_msg("peer gone"); };
  auto st = m.feed(bytes_of(data), sink);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "peer gone");
  EXPECT_FALSE(m.feed(bytes_of(data), sink));
  EXPECT_FALSE(m.finish(sink));
}

TEST(DeltaMatch, Throughput) {
  // Not an assertion: prints MB/s for matched and for totally new data.
  const size_t size = 64 << 20;
  std::string old_data = random_bytes(size, 40);
  std::string fresh = random_bytes(size, 41);
  uint32_t bs = block_size_for(size);
  auto sums = signature_of(old_data, bs);
  DeltaSink sink = [](const DeltaOp&) -> base::Status { return {}; };
  auto run = [&](const std::string& new_data, const char* what) {
    double best = 0;
    for (int round = 0; round < 3; ++round) {  // the best of 3: the machine is shared
      DeltaMatcher m(bs, size, kNoWindow);
      m.add_blocks(sums);
      auto start = std::chrono::steady_clock::now();
      auto data = bytes_of(new_data);
      for (size_t off = 0; off < data.size(); off += 256 << 10) {
        auto piece = data.subspan(off, std::min<size_t>(256 << 10, data.size() - off));
        ASSERT_TRUE(m.feed(piece, sink));
      }
      ASSERT_TRUE(m.finish(sink));
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::max(best, data.size() / secs / 1e6);
      if (round == 0) {
        std::printf("delta match, %s: matched %llu, literal %llu, block %u\n", what,
                    static_cast<unsigned long long>(m.matched_bytes()),
                    static_cast<unsigned long long>(m.literal_bytes()), bs);
      }
    }
    std::printf("delta match, %s: %.0f MB/s\n", what, best);
  };
  run(old_data, "matched data");
  run(fresh, "new data");
  auto start = std::chrono::steady_clock::now();
  auto again = signature_of(old_data, bs);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("signature: %.0f MB/s\n", size / secs / 1e6);
}

// --- DeltaApply ------------------------------------------------------------

class DeltaApply : public ::testing::Test {
 protected:
  std::string old_data = random_bytes(10 * 1000 + 500, 50);  // 11 blocks of 1000, last 500
  base::UniqueFd old_fd = memfd_with(old_data);
  base::UniqueFd new_fd = memfd_with("");
};

TEST_F(DeltaApply, CopiesAndLiterals) {
  DeltaApplier a(old_fd.get(), old_data.size(), 1000, new_fd.get(), 1 << 20);
  EXPECT_EQ(a.block_count(), 11u);
  ASSERT_TRUE(a.copy(9, 2));  // includes the short last block
  std::string lit = "literal";
  ASSERT_TRUE(a.literal(bytes_of(lit)));
  ASSERT_TRUE(a.copy(0, 3));
  EXPECT_EQ(a.written(), 1500u + 7 + 3000);
  EXPECT_EQ(read_all(new_fd.get(), 10000), old_data.substr(9000) + lit + old_data.substr(0, 3000));
}

TEST_F(DeltaApply, OutOfRangeBlocksAreErrors) {
  DeltaApplier a(old_fd.get(), old_data.size(), 1000, new_fd.get(), 1 << 20);
  auto e1 = a.copy(11, 1);
  ASSERT_FALSE(e1);
  EXPECT_NE(e1.error().message().find("block 11"), std::string::npos) << e1.error().message();
  auto e2 = a.copy(10, 2);
  ASSERT_FALSE(e2);
  EXPECT_NE(e2.error().message().find("runs past"), std::string::npos) << e2.error().message();
  EXPECT_FALSE(a.copy(5, std::numeric_limits<uint32_t>::max()));
  EXPECT_FALSE(a.copy(std::numeric_limits<uint64_t>::max(), 1));
  EXPECT_FALSE(a.copy(std::numeric_limits<uint64_t>::max() - 2, 5));  // block + blocks wraps
  auto e3 = a.copy(0, 0);
  ASSERT_FALSE(e3);
  EXPECT_NE(e3.error().message().find("zero"), std::string::npos);
  EXPECT_EQ(a.written(), 0u);
  EXPECT_EQ(read_all(new_fd.get(), 100), "");
}

TEST_F(DeltaApply, MaxSizeIsNeverExceeded) {
  DeltaApplier a(old_fd.get(), old_data.size(), 1000, new_fd.get(), 3000);
  ASSERT_TRUE(a.copy(0, 2));
  auto e1 = a.copy(2, 2);
  ASSERT_FALSE(e1);
  EXPECT_NE(e1.error().message().find("limit of 3000"), std::string::npos) << e1.error().message();
  ASSERT_TRUE(a.copy(2, 1));
  std::string one = "x";
  auto e2 = a.literal(bytes_of(one));
  ASSERT_FALSE(e2);
  EXPECT_NE(e2.error().message().find("limit"), std::string::npos);
  ASSERT_TRUE(a.literal({}));
  EXPECT_EQ(a.written(), 3000u);
  EXPECT_EQ(read_all(new_fd.get(), 5000).size(), 3000u);
}

TEST_F(DeltaApply, BadBlockSizeHasNoBlocks) {
  DeltaApplier a(old_fd.get(), old_data.size(), 0, new_fd.get(), 1 << 20);
  EXPECT_EQ(a.block_count(), 0u);
  EXPECT_FALSE(a.copy(0, 1));
}

TEST_F(DeltaApply, OldFileShorterThanStatedIsAnError) {
  DeltaApplier a(old_fd.get(), 20000, 1000, new_fd.get(), 1 << 20);
  ASSERT_TRUE(a.copy(0, 10));
  auto e = a.copy(10, 5);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("ended at"), std::string::npos) << e.error().message();
}

TEST_F(DeltaApply, CopiesBetweenFilesystems) {
  // A regular file on disk as the target (memfd source): copy_file_range may
  // refuse across filesystems; the fallback must give the same bytes.
  e2e::TempDir dir;
  auto out = base::sys::open(dir / "new", O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(out) << out.error().message();
  DeltaApplier a(old_fd.get(), old_data.size(), 1000, out->get(), 1 << 20);
  ASSERT_TRUE(a.copy(0, 11));
  EXPECT_EQ(read_all(out->get(), 20000), old_data);
}

}  // namespace
}  // namespace ferry::sync
