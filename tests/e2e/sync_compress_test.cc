// ferry sync's automatic compression over a link that is the limit: two
// network namespaces joined by a veth pair with a tbf rate limit. By
// default a sync compresses while the network is the limit (and data
// shrinks), and its --json summary says how much went compressed; -z
// compresses always, --no-compress never. Every case checks the copy is
// exact. No case asserts on time. Like the diagnosis tests, these run
// alone: the verdict reads the machine's CPU.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"
#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {

// `mb` MiB of log lines (they zstd to about a quarter) at `path`.
void write_log_text(const std::string& path, int mb) {
  std::string script = R"(awk -v mb=")" + std::to_string(mb) + R"(" 'BEGIN { srand(7);
    limit = mb * 1048576; n = 0
    while (n < limit) {
      line = sprintf("%d 2026-12-07T%02d:%02d:%02d host%02d GET /api/items/%d status=%d ms=%.1f\n",
        n, int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 40),
        int(rand() * 100000), 200 + 100 * int(rand() * 4), rand() * 300)
      printf "%s", line; n += length(line) } }' > ")" +
                       path + "\"";
  ASSERT_EQ(Process({"/bin/sh", "-c", script}).wait().exit_code, 0);
}

nlohmann::json sync_json(const std::vector<std::string>& argv) {
  Process p(argv, {std::string("FERRY_TOKEN=") + kToken});
  auto r = p.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("compression")) << r.out << "\n" << r.err;
  return j;
}

uint64_t raw_of(const nlohmann::json& j) {
  return j.is_object() ? j["compression"].value("raw_bytes", uint64_t{0}) : 0;
}

class SyncCompress : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Process({"/bin/mkdir", "-p", t / "src", t / "srv"}).wait().exit_code, 0);
    write_log_text(t / "src/log.txt", 32);
  }
  TempDir t;
};

TEST_F(SyncCompress, AnUploadOverASlowLinkCompressesByItself) {
  NetnsPair net("80mbit");
  NsServer server(net, t / "srv");
  auto j = sync_json(net.in_a({ferry_bin(), "sync", "--json", t / "src/", server.url() + "d"}));
  EXPECT_EQ(j["compression"]["mode"], "auto") << j.dump(2);
  // Most of the file went compressed, to well under half its size.
  EXPECT_GT(raw_of(j), uint64_t{16} << 20) << j.dump(2);
  EXPECT_LT(j["compression"]["wire_bytes"].get<uint64_t>() * 2, raw_of(j)) << j.dump(2);
  EXPECT_EQ(read_file(t / "srv/d/log.txt"), read_file(t / "src/log.txt"));
}

TEST_F(SyncCompress, ADownloadOverASlowLinkIsCompressedByTheServer) {
  ASSERT_EQ(Process({"/bin/cp", "-a", t / "src", t / "srv/d"}).wait().exit_code, 0);
  NetnsPair net("80mbit", /*both_ways=*/true);
  NsServer server(net, t / "srv");
  auto j = sync_json(net.in_a({ferry_bin(), "sync", "--json", server.url() + "d/", t / "got"}));
  EXPECT_GT(raw_of(j), uint64_t{16} << 20) << j.dump(2);
  EXPECT_EQ(read_file(t / "got/log.txt"), read_file(t / "src/log.txt"));
}

TEST_F(SyncCompress, NoCompressNeverDoesAndDataThatDoesNotShrinkIsNotCompressed) {
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "src/random.bin", "16M"}).wait().exit_code, 0);
  NetnsPair net("80mbit");
  NsServer server(net, t / "srv");
  auto off = sync_json(
      net.in_a({ferry_bin(), "sync", "--json", "--no-compress", t / "src/", server.url() + "a"}));
  EXPECT_EQ(off["compression"]["mode"], "off");
  EXPECT_EQ(raw_of(off), 0u) << off.dump(2);
  EXPECT_EQ(read_file(t / "srv/a/log.txt"), read_file(t / "src/log.txt"));
  ASSERT_EQ(Process({"/bin/rm", t / "src/log.txt"}).wait().exit_code, 0);
  auto random =
      sync_json(net.in_a({ferry_bin(), "sync", "--json", t / "src/", server.url() + "b"}));
  EXPECT_EQ(raw_of(random), 0u) << random.dump(2);
  EXPECT_EQ(read_file(t / "srv/b/random.bin"), read_file(t / "src/random.bin"));
}

TEST_F(SyncCompress, ZCompressesEvenWhereTheNetworkIsNotTheLimit) {
  FerryServer server(t / "srv");
  auto j = sync_json({ferry_bin(), "sync", "--json", "-z", t / "src/", server.url("d")});
  EXPECT_EQ(j["compression"]["mode"], "on");
  EXPECT_GT(raw_of(j), uint64_t{30} << 20) << j.dump(2);
  EXPECT_EQ(read_file(t / "srv/d/log.txt"), read_file(t / "src/log.txt"));
}

TEST_F(SyncCompress, ZAndNoCompressTogetherAreRefused) {
  auto r = Process({ferry_bin(), "sync", "-z", "--no-compress", t / "src/", t / "dst"}).wait();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace e2e
