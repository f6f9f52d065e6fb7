// End-to-end tests of bad input: a peer is untrusted in both directions.
// Malicious clients and servers are played by the test itself, speaking the
// wire protocol through the ferry library's own Channel and codecs.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <xxhash.h>

#include "ferry/codec.h"
#include "ferry/diagnosis.h"
#include "ferry/handshake.h"
#include "ferry/messages.h"
#include "net/socket.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {
using namespace ferry;

// One line of error, naming the problem.
void expect_one_line_error(const ProcResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
}

// The server still completes an ordinary upload.
void expect_still_serving(FerryServer& server, TempDir& t) {
  ASSERT_TRUE(server.alive());
  write_file(t / "probe.txt", "still here");
  auto r = ferry({"cp", t / "probe.txt", server.url("probe-copy.txt")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

class Hostile : public testing::Test {
 protected:
  void SetUp() override {
    mkdir((t / "srv").c_str(), 0755);
    mkdir((t / "outside").c_str(), 0755);
    write_file(t / "file.txt", "payload");
  }
  TempDir t;
};

TEST_F(Hostile, WrongTokenIsRefusedAndNothingIsWritten) {
  FerryServer server(t / "srv");
  auto r = ferry({"cp", t / "file.txt", server.url()}, "wrong-token");
  expect_one_line_error(r, "authentication failed");
  EXPECT_EQ(listing(t / "srv"), "");
  mkdir((t / "dl").c_str(), 0755);
  write_file(t / "srv/secret", "s");
  r = ferry({"cp", server.url("secret"), t / "dl"}, "wrong-token");
  expect_one_line_error(r, "authentication failed");
  EXPECT_EQ(listing(t / "dl"), "");
}

TEST_F(Hostile, MissingTokenIsAUsageError) {
  FerryServer server(t / "srv");
  auto r = ferry({"cp", t / "file.txt", server.url()}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no token"), std::string::npos) << r.err;
}

TEST_F(Hostile, ServerWithoutTheTokenIsNotTrusted) {
  // A server that does not know the token cannot fake the WELCOME proof.
  FerryServer server(t / "srv", {}, "the-server-token");
  auto r = ferry({"cp", t / "file.txt", server.url()}, "the-client-token");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(listing(t / "srv"), "");
}

TEST_F(Hostile, ReadOnlyServerRefusesUploads) {
  FerryServer server(t / "srv", {"--read-only"});
  auto r = ferry({"cp", t / "file.txt", server.url()});
  expect_one_line_error(r, "read-only");
  EXPECT_EQ(listing(t / "srv"), "");
}

TEST_F(Hostile, GarbageTruncationAndOversizeLeaveTheServerServing) {
  FerryServer server(t / "srv");
  {  // An HTTP request on the ferry port.
    auto ch = connect_raw(server.port());
    std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(ch->transport().write_all(http.data(), http.size()));
    auto f = ch->recv();
    EXPECT_FALSE(f && f->type != FrameType::kError);
  }
  {  // Half a frame, then the connection closes.
    auto ch = connect_raw(server.port());
    ASSERT_TRUE(ch->transport().write_all("\x01\x00\x00\x00\x00", 5));
  }
  {  // After authenticating: an ENTRY claiming 100 MB.
    auto ch = connect_authenticated(server.port());
    ASSERT_TRUE(ch->send(FrameType::kPut, encode(Put{kFlagRecursive, 1, 1, ""})));
    ASSERT_TRUE(ch->flush());
    ASSERT_TRUE(ch->recv());  // ACCEPT
    uint8_t header[8] = {static_cast<uint8_t>(FrameType::kEntry), 0, 0, 0};
    store_be32(header + 4, 100u << 20);
    ASSERT_TRUE(ch->transport().write_all(header, 8));
    auto f = ch->recv();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, FrameType::kError);
  }
  EXPECT_TRUE(eventually([&] { return server.log().find("over the limit") != std::string::npos; }))
      << server.log();
  expect_still_serving(server, t);
}

TEST_F(Hostile, MalformedRequestsAreAnsweredWithAnError) {
  FerryServer server(t / "srv");
  auto answer = [&](FrameType type, const std::string& payload) {
    auto ch = connect_authenticated(server.port());
    EXPECT_TRUE(ch->send(type, payload));
    EXPECT_TRUE(ch->flush());
    auto f = ch->recv();
    return f ? f->type : FrameType::kDone;  // kDone: closed without a word
  };
  Get no_sources{0, 1, {}};
  EXPECT_EQ(answer(FrameType::kGet, encode(no_sources)), FrameType::kError);
  for (uint8_t streams : {0, 17}) {
    Get get{0, streams, {"file.txt"}};
    EXPECT_EQ(answer(FrameType::kGet, encode(get)), FrameType::kError) << int(streams);
  }
  for (uint8_t index : {0, 200}) {
    Join join{};
    join.index = index;
    EXPECT_EQ(answer(FrameType::kJoin, encode(join)), FrameType::kError) << int(index);
  }
  EXPECT_EQ(answer(FrameType::kStats, "{}"), FrameType::kError);
  expect_still_serving(server, t);
}

TEST_F(Hostile, AStatsSampleWithABadCpuFieldEndsThatTransferOnly) {
  // The members STATS gained for CPU evidence, each at a value no side can
  // measure, sent by a client in the middle of an upload.
  FerryServer server(t / "srv");
  ferry::Sample good;
  good.role = "sender";
  good.interval = 0.2;
  std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"cpu_run", 1.5},     {"cpu_wait", 7},      {"cpu_throttled", -0.5}, {"cpu_process", 1e12},
      {"app_buffered", -1}, {"cpu_wait", "busy"}, {"app_buffered", 1e300}};
  for (const auto& [key, value] : bad) {
    auto ch = connect_authenticated(server.port());
    ASSERT_TRUE(ch->send(FrameType::kPut, encode(Put{kFlagRecursive, 1, 1, ""})));
    ASSERT_TRUE(ch->flush());
    ASSERT_TRUE(ch->recv());  // ACCEPT
    nlohmann::json j = good.to_json();
    j[key] = value;
    ASSERT_TRUE(ch->send(FrameType::kStats, j.dump()));
    ASSERT_TRUE(ch->flush());
    auto f = ch->recv();
    ASSERT_TRUE(f) << key;
    EXPECT_EQ(f->type, FrameType::kError) << key << " = " << value.dump();
  }
  EXPECT_TRUE(eventually([&] { return server.log().find("cpu_run") != std::string::npos; }))
      << server.log();
  expect_still_serving(server, t);
}

TEST_F(Hostile, ATokenHolderCannotPlantASetuidProgramOnARootServer) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the server must run as root)";
  std::string prog = t / "prog";
  write_file(prog, "#!/bin/sh\nid\n");
  ASSERT_EQ(chown(prog.c_str(), 4242, 4242), 0);
  ASSERT_EQ(chmod(prog.c_str(), 06755), 0);
  struct stat st {};
  {
    FerryServer server(t / "srv");
    auto r = ferry({"cp", prog, server.url("")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(stat((t / "srv/prog").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u) << "a set-id bit survived the upload";
    EXPECT_EQ(st.st_uid, 0u) << "the uploader chose the owner";
  }
  // Told to trust its token holders, the server keeps both.
  mkdir((t / "srv2").c_str(), 0755);
  FerryServer trusting(t / "srv2", {"--keep-owners"});
  auto r = ferry({"cp", prog, trusting.url("")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(stat((t / "srv2/prog").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 06755u);
  EXPECT_EQ(st.st_uid, 4242u);
}

TEST_F(Hostile, JoinForNoTransferIsRefused) {
  FerryServer server(t / "srv");
  auto ch = connect_authenticated(server.port());
  Join join;
  join.session.fill(0x42);
  join.index = 1;
  ASSERT_TRUE(ch->send(FrameType::kJoin, encode(join)));
  ASSERT_TRUE(ch->flush());
  auto f = ch->recv();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, FrameType::kError);
  expect_still_serving(server, t);
}

TEST_F(Hostile, IdleAndSlowHandshakesCannotLockOutAClient) {
  FerryServer server(t / "srv");
  // More idle sockets than the handshake pool holds, and more half-sent
  // handshakes than the clients' limit, none of them with the token.
  std::vector<std::unique_ptr<Channel>> idle, slow;
  for (int i = 0; i < 150; ++i) idle.push_back(connect_raw(server.port()));
  for (int i = 0; i < 70; ++i) {
    slow.push_back(connect_raw(server.port()));
    ASSERT_EQ(::send(slow.back()->transport().socket_fd(), "F", 1, MSG_NOSIGNAL), 1);
  }
  auto r = ferry({"cp", t / "file.txt", server.url("")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "srv/file.txt"), "payload");
  // A connection that never authenticates is cut off at the handshake deadline.
  int fd = slow.back()->transport().socket_fd();
  EXPECT_TRUE(eventually(
      [&] {
        char c;
        return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
      },
      std::chrono::milliseconds(30000), std::chrono::milliseconds(100)))
      << "an unauthenticated connection stayed open past the handshake deadline";
  expect_still_serving(server, t);
}

TEST_F(Hostile, StalledClientIsDroppedAfterTheTimeout) {
  FerryServer server(t / "srv", {"--timeout", "1"});
  auto ch = connect_raw(server.port());
  ASSERT_TRUE(ch->transport().write_all("\x01\x00", 2));  // then silence
  auto f = ch->recv();  // the server must close on us rather than wait forever
  EXPECT_FALSE(f);
  EXPECT_NE(server.log().find("no progress"), std::string::npos) << server.log();
  expect_still_serving(server, t);
}

// A malicious client: authenticates, PUTs into `target`, sends `entries`.
// Returns the server's first reply after them (ERROR or RESULT).
FrameType malicious_put(uint16_t port, const std::string& target,
                        const std::vector<Entry>& entries) {
  auto ch = connect_authenticated(port);
  EXPECT_TRUE(ch->send(FrameType::kPut, encode(Put{kFlagRecursive, 1, 1, target})));
  EXPECT_TRUE(ch->flush());
  auto accept = ch->recv();
  if (!accept || accept->type != FrameType::kAccept)
    return accept ? accept->type : FrameType::kError;
  for (const Entry& e : entries) EXPECT_TRUE(ch->send(FrameType::kEntry, encode(e)));
  // Data for every file, so a receiver that wrongly accepted it would write it.
  for (const Entry& e : entries) {
    if (e.kind != EntryKind::kFile) continue;
    std::string payload(kDataPrefixSize, '\0');
    payload += "evil";
    encode_data_header(reinterpret_cast<uint8_t*>(payload.data()),
                       {e.id, 0, XXH3_64bits("evil", 4)});
    (void)ch->send(FrameType::kData, payload);
    (void)ch->send(FrameType::kFileEnd, encode(FileEnd{e.id, FileEndStatus::kOk, ""}));
  }
  (void)ch->send(FrameType::kDone, "");
  (void)ch->flush();
  for (;;) {
    auto f = ch->recv();
    if (!f) return FrameType::kError;
    if (f->type == FrameType::kResult || f->type == FrameType::kError) return f->type;
  }
}

Entry file_entry(uint32_t id, std::string path) {
  Entry e;
  e.id = id;
  e.kind = EntryKind::kFile;
  e.mode = 0644;
  e.size = 4;
  e.path = std::move(path);
  return e;
}

Entry dir_entry(uint32_t id, std::string path) {
  Entry e;
  e.id = id;
  e.kind = EntryKind::kDir;
  e.mode = 0755;
  e.path = std::move(path);
  return e;
}

Entry link_entry(uint32_t id, std::string path, std::string target) {
  Entry e;
  e.id = id;
  e.kind = EntryKind::kSymlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  return e;
}

TEST_F(Hostile, TooManyFilesInFlightLeavesNoEmptyPartFiles) {
  FerryServer server(t / "srv");
  std::vector<Entry> entries;
  for (uint32_t i = 1; i <= 4097; ++i) entries.push_back(file_entry(i, fmt::format("f{}", i)));
  auto ch = connect_authenticated(server.port());
  ASSERT_TRUE(ch->send(FrameType::kPut, encode(Put{0, 1, 4097, ""})));
  ASSERT_TRUE(ch->flush());
  auto accept = ch->recv();
  ASSERT_TRUE(accept && accept->type == FrameType::kAccept);
  for (const Entry& e : entries) (void)ch->send(FrameType::kEntry, encode(e));
  (void)ch->flush();
  bool refused = false;
  for (auto f = ch->recv(); f; f = ch->recv())
    if (f->type == FrameType::kError) refused = true;
  EXPECT_TRUE(refused) << "the server took 4097 files in flight";
  EXPECT_TRUE(eventually([&] { return listing(t / "srv").empty(); }))
      << "part files left: " << listing(t / "srv").substr(0, 200);
  expect_still_serving(server, t);
}

TEST_F(Hostile, MaliciousClientCannotWriteOutsideTheServedDirectory) {
  std::string outside = t / "outside";
  ASSERT_EQ(symlink(outside.c_str(), (t / "srv/escape-link").c_str()), 0);
  FerryServer server(t / "srv");
  // Targets that leave the served directory.
  EXPECT_EQ(malicious_put(server.port(), "../outside", {file_entry(1, "x")}), FrameType::kError);
  EXPECT_EQ(malicious_put(server.port(), "escape-link", {file_entry(1, "x")}), FrameType::kError);
  EXPECT_EQ(malicious_put(server.port(), "escape-link/y", {file_entry(1, "x")}), FrameType::kError);
  // Entry names that try to.
  for (const std::string& bad :
       std::vector<std::string>{"../outside/evil", "/tmp/evil", "root/../../outside/evil",
                                "root//evil", "root/./evil", std::string("root/\0evil", 10)}) {
    EXPECT_EQ(malicious_put(server.port(), "", {file_entry(1, bad)}), FrameType::kError) << bad;
  }
  // A symlink it sent, then a file written "through" it.
  malicious_put(
      server.port(), "",
      {dir_entry(1, "tree"), link_entry(2, "tree/link", outside), file_entry(3, "tree/link/evil")});
  // A file through the served directory's own symlink.
  malicious_put(server.port(), "", {file_entry(1, "escape-link/evil2")});
  EXPECT_EQ(listing(outside), "");
  expect_still_serving(server, t);
}

TEST_F(Hostile, MaliciousServerCannotWriteOutsideTheTarget) {
  std::string outside = t / "outside";
  auto script = [&](Channel& ch) {
    (void)ch.send(FrameType::kAccept, encode(Accept{}));
    for (const Entry& e : {dir_entry(1, "tree"), link_entry(2, "tree/link", outside),
                           file_entry(3, "tree/link/evil"), file_entry(4, "../evil"),
                           file_entry(5, "/tmp/evil"), file_entry(6, "other-root/evil")})
      (void)ch.send(FrameType::kEntry, encode(e));
    (void)ch.flush();
    while (ch.recv()) {
    }
  };
  FakeServer fake(script);
  mkdir((t / "dl").c_str(), 0755);
  auto r = ferry({"cp", "-r", fake.url("tree"), t / "dl/copy"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(listing(outside), "");
  EXPECT_FALSE(exists(t / "evil"));
  EXPECT_FALSE(exists(t / "dl/evil"));
}

TEST_F(Hostile, AnnouncingAHugeFileThenLeavingReservesAlmostNothing) {
  struct statfs fs {};
  ASSERT_EQ(statfs(t.path().c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "on tmpfs nothing is preallocated anyway";
  FerryServer server(t / "srv");
  {
    auto ch = connect_authenticated(server.port());
    ASSERT_TRUE(ch->send(FrameType::kPut, encode(Put{0, 1, 1, ""})));
    ASSERT_TRUE(ch->flush());
    auto accept = ch->recv();
    ASSERT_TRUE(accept && accept->type == FrameType::kAccept);
    Entry big = file_entry(1, "big");
    big.size = 3ull << 29;  // 1.5 GiB announced, not one byte sent
    ASSERT_TRUE(ch->send(FrameType::kEntry, encode(big)));
    ASSERT_TRUE(ch->flush());
    auto want = ch->recv();  // the server has opened the part file
    ASSERT_TRUE(want && want->type == FrameType::kWant);
    // One chunk of data, so the part file is worth keeping for a resume
    // (an empty one is removed) and the server reserves space ahead of it.
    std::string chunk(64 << 10, 'd');
    std::string payload(kDataPrefixSize, '\0');
    payload += chunk;
    encode_data_header(reinterpret_cast<uint8_t*>(payload.data()),
                       {1, 0, XXH3_64bits(chunk.data(), chunk.size())});
    ASSERT_TRUE(ch->send(FrameType::kData, payload));
    ASSERT_TRUE(ch->flush());
    // Written: the part file reaches the chunk's size.
    std::string part = t / "srv/.big.ferry-part";
    ASSERT_TRUE(eventually([&] {
      struct stat st {};
      return stat(part.c_str(), &st) == 0 && st.st_size >= static_cast<off_t>(chunk.size());
    }));
  }  // and the client is gone
  // The server notices, and keeps the part file (it holds data) with at most
  // the reserve window allocated, never the announced 1.5 GiB.
  std::string part = t / "srv/.big.ferry-part";
  ASSERT_TRUE(eventually([&] {
    return server.log().find("connection closed") != std::string::npos;
  })) << server.log();
  struct stat st {};
  ASSERT_EQ(stat(part.c_str(), &st), 0);
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, (64ull << 20) + (1 << 20))
      << "the announced size was reserved on disk";
  expect_still_serving(server, t);
}

// The other side of StalledClientIsDroppedAfterTheTimeout: a client whose frame arrives slowly but
// steadily makes progress, and is never dropped for it. (The server reads
// a frame's rest with a low-water mark of up to 256 KiB; every 64 KiB
// below here comes after 400 ms, so four of them outlast the 1 s timeout.)
TEST_F(Hostile, ASlowButSteadyClientIsNotDropped) {
  // Plaintext, whose reads wait for the mark (TLS reads records).
  FerryServer server(t / "srv", {"--timeout", "1", "--plaintext"});
  auto ch = connect_plaintext(server.port());
  ASSERT_TRUE(ferry::client_handshake(*ch, kToken));
  ASSERT_TRUE(ch->send(FrameType::kPut, encode(Put{0, 1, 1, "slow.bin"})));
  ASSERT_TRUE(ch->flush());
  auto accept = ch->recv();
  ASSERT_TRUE(accept && accept->type == FrameType::kAccept);
  std::string data(640 << 10, 's');
  for (size_t i = 0; i < data.size(); i += 4099) data[i] = static_cast<char>(i);
  Entry e = file_entry(1, "slow.bin");
  e.size = data.size();
  ASSERT_TRUE(ch->send(FrameType::kEntry, encode(e)));
  ASSERT_TRUE(ch->flush());
  auto want = ch->recv();
  ASSERT_TRUE(want && want->type == FrameType::kWant);
  // One DATA frame, its bytes sent 64 KiB at a time.
  std::string frame = e2e::raw_data_frame(1, 0, data);
  int fd = ch->transport().socket_fd();
  for (size_t at = 0; at < frame.size(); at += 64 << 10) {
    size_t n = std::min<size_t>(64 << 10, frame.size() - at);
    ASSERT_EQ(::send(fd, frame.data() + at, n, MSG_NOSIGNAL), static_cast<ssize_t>(n))
        << "dropped at byte " << at << ": " << server.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  ASSERT_TRUE(ch->send(FrameType::kFileEnd, encode(FileEnd{1, FileEndStatus::kOk, ""})));
  ASSERT_TRUE(ch->send(FrameType::kDone, ""));
  ASSERT_TRUE(ch->flush());
  for (;;) {
    auto f = ch->recv();
    ASSERT_TRUE(f) << server.log();
    if (f->type == FrameType::kResult) break;
    ASSERT_NE(f->type, FrameType::kError) << server.log();
  }
  EXPECT_EQ(read_file(t / "srv/slow.bin"), data);
  EXPECT_EQ(server.log().find("no progress"), std::string::npos) << server.log();
}

TEST_F(Hostile, ARejectedWantIsAnsweredWithAnErrorThatNamesIt) {
  write_file(t / "srv/three.bin", std::string(3 << 20, 'x'));  // 3 blocks
  FerryServer server(t / "srv");
  auto ch = connect_authenticated(server.port());
  Get get;
  get.streams = 1;
  get.sources = {"three.bin"};
  ASSERT_TRUE(ch->send(FrameType::kGet, encode(get)));
  ASSERT_TRUE(ch->flush());
  auto accept = ch->recv();
  ASSERT_TRUE(accept && accept->type == FrameType::kAccept);
  auto entry = ch->recv();
  ASSERT_TRUE(entry && entry->type == FrameType::kEntry);
  auto e = decode_entry(entry->payload);
  ASSERT_TRUE(e);
  Want lie{e->id, WantHow::kBlocks, std::vector<uint64_t>(10, 0)};  // claims 10 blocks
  ASSERT_TRUE(ch->send(FrameType::kWant, encode(lie)));
  ASSERT_TRUE(ch->flush());
  std::string said;
  for (auto f = ch->recv(); f; f = ch->recv())
    if (f->type == FrameType::kError) {
      auto err = decode_error(f->payload);
      if (err) said = err->message;
      break;
    }
  EXPECT_NE(said.find("claims 10 blocks"), std::string::npos) << "ERROR: " << said;
  expect_still_serving(server, t);
}

TEST_F(Hostile, AnUploadTheServerEndsGetsNoDoneAfterIt) {
  std::atomic<bool> done_after_error{false};
  FakeServer fake([&](Channel& ch) {
    (void)ch.send(FrameType::kAccept, encode(Accept{}));
    (void)ch.flush();
    auto first = ch.recv();  // the client's first ENTRY
    (void)ch.send(FrameType::kError, encode(ErrorMsg{1, "disk full (the fake's answer)"}));
    (void)ch.flush();
    for (auto f = ch.recv(); f; f = ch.recv())
      if (f->type == FrameType::kDone) done_after_error = true;
  });
  write_file(t / "big", std::string(8 << 20, 'b'));
  auto r = ferry({"cp", t / "big", fake.url("")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("disk full (the fake's answer)"), std::string::npos) << r.err;
  EXPECT_FALSE(done_after_error) << "the client sent DONE after the server's ERROR";
}

TEST_F(Hostile, ARerunAfterAPeerVanishedWithoutAFinTakesItsFileOver) {
  // The upload goes through a 40 mbit/s veth, so it is mid-way when cut.
  NetnsPair net("40mbit");
  NsServer server(net, t / "srv");
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "big", "24M"}).wait().exit_code, 0);
  std::vector<std::string> env = {std::string("FERRY_TOKEN=") + kToken};
  Process first(net.in_a({ferry_bin(), "cp", "-q", "--reconnects", "0", t / "big", server.url()}),
                env);
  std::string part = t / "srv/.big.ferry-part";
  ASSERT_TRUE(eventually([&] {
    struct stat st {};
    return stat(part.c_str(), &st) == 0 && st.st_size > (2 << 20);
  }));
  // The client vanishes without a FIN: from now on nothing from its port
  // reaches the server (not its FIN, not the RSTs its kernel would send).
  auto ss = Process(net.in_a({"ss", "-tnH", "state", "established", "dst", net.addr_b()})).wait();
  std::istringstream cols(ss.out);
  std::string recvq, sendq, local;
  cols >> recvq >> sendq >> local;
  std::string port = local.substr(local.rfind(':') + 1);
  ASSERT_FALSE(port.empty()) << ss.out;
  ASSERT_EQ(
      Process(net.in_a({"nft", fmt::format("add table inet cut; add chain inet cut out {{ type "
                                           "filter hook output priority 0; }}; add rule inet cut "
                                           "out tcp sport {} drop",
                                           port)}))
          .wait()
          .exit_code,
      0);
  first.signal(SIGKILL);
  first.wait();
  // Run again at once: the server's old connection still holds the part
  // file, and must give it up rather than refuse the re-run.
  auto again =
      Process(net.in_a({ferry_bin(), "cp", "-q", "--reconnects", "0", t / "big", server.url()}),
              env)
          .wait();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(read_file(t / "srv/big") == read_file(t / "big")) << "content differs";
  EXPECT_FALSE(exists(part));
}

TEST_F(Hostile, APlantedHardLinkAsPartFileIsNotWrittenThrough) {
  std::string victim = t / "outside/victim";
  write_file(victim, "original");
  ASSERT_EQ(link(victim.c_str(), (t / "srv/.file.txt.ferry-part").c_str()), 0);
  FerryServer server(t / "srv");
  auto r = ferry({"cp", t / "file.txt", server.url("")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "srv/file.txt"), "payload");
  EXPECT_EQ(read_file(victim), "original") << "the upload wrote through a planted hard link";
  struct stat st {};
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

// A server that corrupts the first `corrupt` sends of the file's only chunk.
void corrupting_sender(Channel& ch, int corrupt) {
  const std::string data = "the real content";
  (void)ch.send(FrameType::kAccept, encode(Accept{}));
  Entry e = file_entry(1, "f");
  e.size = data.size();
  (void)ch.send(FrameType::kEntry, encode(e));
  (void)ch.flush();
  int sent = 0;
  auto send_chunk = [&] {
    std::string payload(kDataPrefixSize, '\0');
    std::string body = sent++ < corrupt ? "the rEal content" : data;
    payload += body;
    encode_data_header(reinterpret_cast<uint8_t*>(payload.data()),
                       {1, 0, XXH3_64bits(data.data(), data.size())});
    (void)ch.send(FrameType::kData, payload);
    (void)ch.send(FrameType::kFileEnd, encode(FileEnd{1, FileEndStatus::kOk, ""}));
    (void)ch.flush();
  };
  for (;;) {
    auto f = ch.recv();
    if (!f) return;
    if (f->type == FrameType::kWant) {
      send_chunk();
      (void)ch.send(FrameType::kDone, "");
      (void)ch.flush();
    } else if (f->type == FrameType::kRetry) {
      send_chunk();
    } else if (f->type == FrameType::kResult || f->type == FrameType::kError) {
      return;
    }
  }
}

TEST_F(Hostile, ChecksumMismatchIsRetriedThenSucceeds) {
  FakeServer fake([](Channel& ch) { corrupting_sender(ch, 2); });
  auto r = ferry({"cp", "--json", fake.url("f"), t / "got"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "got"), "the real content");
  EXPECT_NE(r.out.find("\"retried_chunks\":2"), std::string::npos) << r.out;
}

TEST_F(Hostile, PersistentChecksumMismatchIsReportedAndNothingIsKept) {
  FakeServer fake([](Channel& ch) { corrupting_sender(ch, 100); });
  auto r = ferry({"cp", fake.url("f"), t / "got"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("checksum mismatch persisted"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(t / "got"));
  EXPECT_EQ(listing(t.path()).find("ferry-part"), std::string::npos) << listing(t.path());
}

TEST_F(Hostile, ServerSpeakingGarbageGivesOneClearLine) {
  auto fd = net::listen_tcp({"127.0.0.1", 0});
  ASSERT_TRUE(fd);
  auto port =
      static_cast<uint16_t>(std::stoi(net::local_address(fd->get())->to_string().substr(10)));
  std::thread junk([&] {
    auto c = net::accept(fd->get());
    if (c) (void)!write(c->fd.get(), "SSH-2.0-OpenSSH_9.2\r\n", 21);
  });
  auto r = ferry({"cp", t / "file.txt", "ferry://127.0.0.1:" + std::to_string(port) + "/"});
  junk.join();
  expect_one_line_error(r, "not a ferry");
}

TEST_F(Hostile, FullDiskIsReportedAndLeavesNoFinalFile) {
  std::string small = t / "small";
  mkdir(small.c_str(), 0755);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount tmpfs";
  struct Unmount {
    std::string p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{small};
  std::string big(4 << 20, 'x');
  write_file(t / "big", big);
  FerryServer server(small);
  auto r = ferry({"cp", t / "big", server.url()});
  expect_one_line_error(r, "No space left on device");
  EXPECT_FALSE(exists(small + "/big"));
  expect_still_serving(server, t);
}

TEST_F(Hostile, FileChangingWhileSentIsReportedNotCopiedTorn) {
  std::string path = t / "growing.log";
  write_file(path, std::string(64 << 20, 'a'));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int fd = open(path.c_str(), O_WRONLY | O_APPEND);
    while (!stop) (void)!write(fd, "more\n", 5);
    close(fd);
  });
  FerryServer server(t / "srv");
  auto r = ferry({"cp", path, server.url()});
  stop = true;
  writer.join();
  expect_one_line_error(r, "changed while being sent");
  EXPECT_FALSE(exists(t / "srv/growing.log"));
}

}  // namespace
}  // namespace e2e
