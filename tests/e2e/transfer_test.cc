// End-to-end transfers with the real `ferry` binary over loopback: every
// kind of entry in both directions, scp naming rules, files over 4 GiB,
// resume after either side is killed, and concurrency.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"

namespace e2e {
namespace {

nlohmann::json summary(const ProcResult& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out << r.err;
  return j;
}

TEST(Transfer, UploadTreeWithEveryKindOfEntry) {
  TempDir t;
  make_every_kind_tree(t / "tree");
  mkdir((t / "srv").c_str(), 0755);
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "-r", "--json", t / "tree", server.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "srv/tree"));
  auto j = summary(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["direction"], "upload");
  EXPECT_EQ(j["files"], 15);  // the root and 3 dirs, 7 files, 4 links
}

TEST(Transfer, TheDefaultListenerTakesIPv4AndIPv6AndPrintsAUsableCommand) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  write_file(t / "f", "both families");
  Process server({ferry_bin(), "serve", t / "srv", "--listen", ":0"});  // no token: one is made
  uint16_t port = 0;
  std::string out;
  ASSERT_TRUE(eventually([&] {
    out = server.out();
    size_t at = out.find("[::]:");
    if (at == std::string::npos || out.find("ferry://", at) == std::string::npos) return false;
    port = static_cast<uint16_t>(std::stoi(out.substr(at + 5)));
    return true;
  })) << out
      << server.err();
  EXPECT_EQ(out.find("ferry://0.0.0.0"), std::string::npos) << out;
  EXPECT_EQ(out.find("ferry://[::]"), std::string::npos) << out;
  std::string token = out.substr(out.find("token ") + 6, 32);
  for (const char* host : {"127.0.0.1", "[::1]"}) {
    std::string url = fmt::format("ferry://{}:{}/{}", host, port, host[0] == '[' ? "six" : "four");
    auto r = ferry({"cp", t / "f", url}, token);
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.err;
  }
  EXPECT_EQ(read_file(t / "srv/four"), "both families");
  EXPECT_EQ(read_file(t / "srv/six"), "both families");
}

TEST(Transfer, VersionNamesTheReleaseAndTheWireProtocol) {
  auto r = ferry({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ferry ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("(wire protocol 2)"), std::string::npos) << r.out;
}

TEST(Transfer, DownloadTreeWithEveryKindOfEntry) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  make_every_kind_tree(t / "srv/tree");
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "-r", "--json", server.url("tree"), t / "copy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(trees_equal(t / "srv/tree", t / "copy"));
  EXPECT_EQ(summary(r)["direction"], "download");
}

TEST(Transfer, ScpNamingRules) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  mkdir((t / "srv/existing").c_str(), 0755);
  write_file(t / "a.txt", "A");
  write_file(t / "b.txt", "B");
  FerryServer server(t / "srv");
  // Into an existing directory: keeps its name.
  ASSERT_EQ(ferry({"cp", t / "a.txt", server.url("existing")}).exit_code, 0);
  EXPECT_EQ(read_file(t / "srv/existing/a.txt"), "A");
  // To a new name: renamed.
  ASSERT_EQ(ferry({"cp", t / "a.txt", server.url("renamed.txt")}).exit_code, 0);
  EXPECT_EQ(read_file(t / "srv/renamed.txt"), "A");
  // A URL without the trailing slash names the copy too.
  ASSERT_EQ(
      ferry({"cp", t / "b.txt", fmt::format("ferry://127.0.0.1:{}/existing/b2.txt", server.port())})
          .exit_code,
      0);
  EXPECT_EQ(read_file(t / "srv/existing/b2.txt"), "B");
  // Several sources need a directory target.
  auto r = ferry({"cp", t / "a.txt", t / "b.txt", server.url("nodir")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(t / "srv/nodir"));
  // A directory without -r is refused.
  r = ferry({"cp", t / "srv", server.url("x")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("use -r"), std::string::npos) << r.err;
  // Several sources download into a directory.
  mkdir((t / "dl").c_str(), 0755);
  ASSERT_EQ(
      ferry({"cp", server.url("renamed.txt"), server.url("existing/a.txt"), t / "dl"}).exit_code,
      0);
  EXPECT_EQ(listing(t / "dl"), "a.txt renamed.txt");
}

// Everything `writer` wrote into the FIFO whose read end `fd` (non-blocking)
// was opened before any writer: poll() reports a hang-up only once a writer
// came and went, so this waits for the writer, then reads to its close; it
// stops early when the writer exits without opening it (at most two minutes).
std::string read_fifo_until_closed(int fd, Process& writer) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) {
      if (!writer.running()) break;
      continue;
    }
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else if (n == 0 && (p.revents & POLLHUP)) {
      break;
    }
  }
  return got;
}

// A target that is a device or a FIFO is written into, as cp does, never
// replaced: `ferry cp URL /dev/null` once replaced /dev/null with a regular
// file. A served directory's device or FIFO is never an upload's target.
TEST(Transfer, ADeviceOrFifoTargetIsWrittenIntoNotReplaced) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  std::string data(3 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>(i / 4093);
  write_file(t / "srv/big", data);
  FerryServer server(t / "srv");
  // A null device of the test's own (the same numbers as /dev/null).
  ASSERT_EQ(mknod((t / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  auto r = ferry({"cp", server.url("big"), t / "null"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(lstat((t / "null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device was replaced";
  EXPECT_EQ(listing(t.path()), "null srv srv/big");  // no part file left beside it
  // A FIFO with a reader gets the file, in order, through a symlink too.
  // The reader is this test, its end open before ferry starts: a reader
  // process might not have opened it yet, and ferry would rightly find none.
  ASSERT_EQ(mkfifo((t / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(symlink("fifo", (t / "to-fifo").c_str()), 0);
  {
    int reader = ::open((t / "fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    Process writer({ferry_bin(), "cp", server.url("big"), t / "to-fifo"},
                   {std::string("FERRY_TOKEN=") + kToken});
    write_file(t / "got", read_fifo_until_closed(reader, writer));
    ::close(reader);
    r = writer.wait();
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "got"), data);
  ASSERT_EQ(lstat((t / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // A FIFO nobody reads: one line, at once, not a hang.
  r = ferry({"cp", server.url("big"), t / "fifo"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("fifo"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A directory cannot go into a device.
  mkdir((t / "srv/d").c_str(), 0755);
  write_file(t / "srv/d/f", "f");
  r = ferry({"cp", "-r", server.url("d"), t / "null"});
  EXPECT_NE(r.exit_code, 0);
  // The server's own FIFO is refused as an upload's target, and kept;
  // so is one inside a directory that an upload fills.
  ASSERT_EQ(mkfifo((t / "srv/pipe").c_str(), 0600), 0);
  r = ferry({"cp", t / "got", server.url("pipe")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a regular file or directory"), std::string::npos) << r.err;
  ASSERT_EQ(lstat((t / "srv/pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  mkdir((t / "up").c_str(), 0755);
  write_file(t / "up/pipe", "a file where the server has a FIFO");
  mkdir((t / "srv/up").c_str(), 0755);
  ASSERT_EQ(mkfifo((t / "srv/up/pipe").c_str(), 0600), 0);
  r = ferry({"cp", "-r", t / "up", server.url("")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a regular file or directory"), std::string::npos) << r.err;
  ASSERT_EQ(lstat((t / "srv/up/pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // A symlink the user names is written through, as cp does: the file it
  // leads to gets the copy, and the link stays (think of /dev/stdout).
  write_file(t / "real", "old");
  ASSERT_EQ(symlink("real", (t / "to-real").c_str()), 0);
  r = ferry({"cp", server.url("big"), t / "to-real"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(lstat((t / "to-real").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the symlink was replaced";
  EXPECT_EQ(read_file(t / "real"), data);
}

TEST(Transfer, FileOver4GiBWithHolesKeepsOffsetsAndHoles) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  const off_t size = (5ll << 30) + 12345;
  const off_t far = (4ll << 30) + (512 << 20);
  int fd = open((t / "huge").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_EQ(pwrite(fd, "head", 4, 0), 4);
  ASSERT_EQ(pwrite(fd, "beyond-4GiB", 11, far), 11);
  ASSERT_EQ(ftruncate(fd, size), 0);
  close(fd);
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "--json", t / "huge", server.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st;
  ASSERT_EQ(stat((t / "srv/huge").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, size);
  EXPECT_LT(st.st_blocks * 512, 16 << 20) << "holes were filled";
  fd = open((t / "srv/huge").c_str(), O_RDONLY);
  char buf[12] = {};
  ASSERT_EQ(pread(fd, buf, 11, far), 11);
  EXPECT_STREQ(buf, "beyond-4GiB");
  close(fd);
}

// Waits until the part file of `name` in `dir` holds data, then returns.
bool part_has_data(const std::string& dir, const std::string& name) {
  return eventually([&] {
    struct stat st;
    return stat((dir + "/." + name + ".ferry-part").c_str(), &st) == 0 && st.st_size > (8 << 20);
  });
}

class Resume : public testing::Test {
 protected:
  void SetUp() override {
    mkdir((t / "srv").c_str(), 0755);
    std::string size = "256M";
    ASSERT_EQ(Process({gen_tree_bin(), "file", t / "big", size}).wait().exit_code, 0);
  }
  TempDir t;
};

TEST_F(Resume, AfterClientKilledMidUpload) {
  auto server = std::make_unique<FerryServer>(t / "srv");
  Process cp({ferry_bin(), "cp", "--reconnects", "0", t / "big", server->url()},
             {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_TRUE(part_has_data(t / "srv", "big")) << cp.err();
  // Freeze the receiver so the copy cannot finish, then kill the sender.
  server->process().signal(SIGSTOP);
  cp.signal(SIGKILL);
  cp.wait();
  server->process().signal(SIGCONT);
  EXPECT_FALSE(exists(t / "srv/big")) << "a partial file appeared under its final name";
  auto r = ferry({"cp", "--json", t / "big", server->url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "srv/big"), read_file(t / "big"));
  auto j = summary(r);
  EXPECT_GT(j["bytes_skipped"].get<uint64_t>(), 0u) << "nothing was resumed";
  EXPECT_LT(j["bytes"].get<uint64_t>(), 256ull << 20);
  EXPECT_FALSE(exists(t / "srv/.big.ferry-part"));
}

TEST_F(Resume, AfterServerKilledMidUpload) {
  auto server = std::make_unique<FerryServer>(t / "srv");
  Process cp({ferry_bin(), "cp", "--reconnects", "0", t / "big", server->url()},
             {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_TRUE(part_has_data(t / "srv", "big")) << cp.err();
  server->process().signal(SIGKILL);
  auto failed = cp.wait();
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_FALSE(exists(t / "srv/big"));
  server = std::make_unique<FerryServer>(t / "srv");
  auto r = ferry({"cp", "--json", t / "big", server->url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "srv/big"), read_file(t / "big"));
  EXPECT_GT(summary(r)["bytes_skipped"].get<uint64_t>(), 0u);
}

TEST_F(Resume, AfterClientKilledMidDownload) {
  ASSERT_EQ(rename((t / "big").c_str(), (t / "srv/big").c_str()), 0);
  mkdir((t / "dl").c_str(), 0755);
  FerryServer server(t / "srv");
  Process cp({ferry_bin(), "cp", "--reconnects", "0", server.url("big"), t / "dl"},
             {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_TRUE(part_has_data(t / "dl", "big")) << cp.err();
  server.process().signal(SIGSTOP);
  cp.signal(SIGKILL);
  cp.wait();
  server.process().signal(SIGCONT);
  EXPECT_FALSE(exists(t / "dl/big"));
  auto r = ferry({"cp", "--json", server.url("big"), t / "dl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "dl/big"), read_file(t / "srv/big"));
  EXPECT_GT(summary(r)["bytes_skipped"].get<uint64_t>(), 0u);
}

TEST(Transfer, ParallelStreamsBothDirections) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  make_every_kind_tree(t / "tree");
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "tree/spread.bin", "37M"}).wait().exit_code, 0);
  FerryServer server(t / "srv");
  auto up = ferry({"cp", "-r", "-P", "4", "--json", t / "tree", server.url()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "srv/tree"));
  auto down = ferry({"cp", "-r", "-P", "3", "--json", server.url("tree"), t / "back"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "back"));
}

// --bwlimit holds the whole transfer, all streams together, to its rate in
// both directions. The check bounds the rate from above only: a slow
// machine cannot fail it, a limit that does not hold does.
TEST(Transfer, BwlimitHoldsBothDirectionsOverEveryStream) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "six.bin", "6M"}).wait().exit_code, 0);
  FerryServer server(t / "srv");
  auto rate_of = [](const ProcResult& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("bytes_per_second", 1e12) : 1e12;
  };
  constexpr double kLimit = 2 << 20;  // --bwlimit 2048 (KiB/s, rsync's unit)
  auto up = ferry({"cp", "-P", "2", "--json", "--bwlimit", "2048", t / "six.bin", server.url()});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_LT(rate_of(up), kLimit * 1.25) << up.out;
  auto down = ferry(
      {"sync", "-P", "2", "--json", "--bwlimit", "2M", server.url("six.bin"), t / "back.bin"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_LT(rate_of(down), kLimit * 1.25) << down.out;
  EXPECT_EQ(read_file(t / "back.bin"), read_file(t / "six.bin"));
  auto bad = ferry({"cp", "--bwlimit", "fast", t / "six.bin", server.url()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--bwlimit: 'fast'"), std::string::npos) << bad.err;
  // A few bytes a second would be a hang, not a limit (rsync's floor too).
  auto crawl = ferry({"cp", "--bwlimit", "0.4", t / "six.bin", server.url()});
  EXPECT_EQ(crawl.exit_code, 2);
  EXPECT_NE(crawl.err.find("under 512 bytes"), std::string::npos) << crawl.err;
}

TEST(Transfer, ResumeFlagSkipsFilesAlreadyWhole) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  make_every_kind_tree(t / "tree");
  FerryServer server(t / "srv");
  ASSERT_EQ(ferry({"cp", "-r", t / "tree", server.url()}).exit_code, 0);
  write_file(t / "tree/plain.txt", "changed\n");
  auto r = ferry({"cp", "-r", "--resume", "--json", t / "tree", server.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "srv/tree"));
  auto j = summary(r);
  EXPECT_EQ(j["files_skipped"], 6);  // all 7 regular files but the changed one
  EXPECT_EQ(j["bytes"], 8);
}

TEST(Transfer, ManyClientsAtOnce) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  make_every_kind_tree(t / "tree");
  make_every_kind_tree(t / "srv/shared");
  FerryServer server(t / "srv");
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < 4; ++i) {
    mkdir((t / ("srv/up" + std::to_string(i))).c_str(), 0755);
    clients.push_back(
        std::make_unique<Process>(std::vector<std::string>{ferry_bin(), "cp", "-r", t / "tree",
                                                           server.url("up" + std::to_string(i))},
                                  std::vector<std::string>{std::string("FERRY_TOKEN=") + kToken}));
    clients.push_back(std::make_unique<Process>(
        std::vector<std::string>{ferry_bin(), "cp", "-r", server.url("shared"),
                                 t / ("dl" + std::to_string(i))},
        std::vector<std::string>{std::string("FERRY_TOKEN=") + kToken}));
  }
  for (auto& c : clients) EXPECT_EQ(c->wait().exit_code, 0) << c->err();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(trees_equal(t / "tree", t / ("srv/up" + std::to_string(i) + "/tree")));
    EXPECT_TRUE(trees_equal(t / "srv/shared", t / ("dl" + std::to_string(i))));
  }
}

TEST(Transfer, TwentyThousandSmallFilesArrive) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  ASSERT_EQ(Process({gen_tree_bin(), "tree", t / "tree", "20000", "40M"}).wait().exit_code, 0);
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "-r", "--json", t / "tree", server.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(summary(r)["files"], 20000 + 200 + 1);
  EXPECT_TRUE(trees_equal(t / "tree", t / "srv/tree"));
}

}  // namespace
}  // namespace e2e
