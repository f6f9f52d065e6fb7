// ferry sync against hostile peers: a server that feeds a downloading
// client bombs and lies, and a client that sends a real server what it did
// not ask for. Each must end the transfer with an error naming the problem,
// leave the target as it was, and never crash either side.
#include <zstd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ferry/channel.h"
#include "ferry/frame.h"
#include "ferry/messages.h"
#include "ferry/sync_messages.h"
#include "tests/e2e/harness.h"

namespace e2e {
namespace {
using ferry::Channel;
using ferry::FrameType;

constexpr uint32_t kSyncGet = ferry::kFlagRecursive | ferry::kFlagSync;

// The answer a real server gives a plain sync GET, then packing as it does.
bool accept_sync(Channel& ch) {
  ferry::Accept a;
  a.flags = kSyncGet;
  if (!ch.send(FrameType::kAccept, ferry::encode(a)) || !ch.flush()) return false;
  return static_cast<bool>(ch.start_packing());
}

ferry::Entry file_entry(uint32_t id, const std::string& path, uint64_t size) {
  ferry::Entry e;
  e.id = id;
  e.kind = ferry::EntryKind::kFile;
  e.mode = 0644;
  e.mtime_sec = 1700000000;
  e.size = size;
  e.path = path;
  return e;
}

TEST(SyncHostileServer, APackedFrameThatUnpacksPastItsCapIsRefused) {
  TempDir t;
  FakeServer fake([](Channel& ch) {
    if (!accept_sync(ch)) return;
    std::string zeros(4u << 20, '\0');  // 4 MiB of frames' worth, a few KiB packed
    std::string packed(ZSTD_compressBound(zeros.size()), '\0');
    size_t n = ZSTD_compress(packed.data(), packed.size(), zeros.data(), zeros.size(), 3);
    if (ZSTD_isError(n)) return;
    packed.resize(n);
    (void)ch.send(FrameType::kPacked, packed);
    (void)ch.flush();
    (void)ch.recv();  // until the client gives up
  });
  auto r = ferry({"sync", "-q", fake.url("d"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("PACKED"), std::string::npos) << r.err;
}

TEST(SyncHostileServer, ADeltaThatBuildsTheWrongSizeFailsTheFileNotTheMachine) {
  TempDir t;
  std::filesystem::create_directories(t / "dst/d");
  write_file(t / "dst/d/f", "the old copy\n");
  FakeServer fake([](Channel& ch) {
    if (!accept_sync(ch)) return;
    ferry::Entry dir;
    dir.id = 1;
    dir.kind = ferry::EntryKind::kDir;
    dir.mode = 0755;
    dir.path = "d";
    (void)ch.send(FrameType::kEntry, ferry::encode(dir));
    // 1 TiB announced: a delta that builds nothing must not make the client
    // ask for a terabyte again, or try to hold it.
    (void)ch.send(FrameType::kEntry, ferry::encode(file_entry(2, "d/f", 1ull << 40)));
    (void)ch.flush();
    for (;;) {  // WANT DELTA, then the old copy's signature
      auto f = ch.recv();
      if (!f) return;
      if (f->type == FrameType::kSignature) break;
    }
    std::string delta;
    ferry::begin_delta(delta, 2);
    ferry::append_end(delta, ferry::DeltaEnd{});
    (void)ch.send(FrameType::kDelta, delta);
    (void)ch.send(FrameType::kFileEnd,
                  ferry::encode(ferry::FileEnd{2, ferry::FileEndStatus::kOk, "", 1}));
    (void)ch.send(FrameType::kDone, "");
    (void)ch.flush();
    while (ch.recv()) {
    }
  });
  auto r = ferry({"sync", "-q", "--timeout", "10", fake.url("d"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("built 0 bytes"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t / "dst/d/f"), "the old copy\n");
}

TEST(SyncHostileClient, SignaturesNobodyAskedForEndTheTransferAndTheServerLives) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/d");
  write_file(t / "srv/d/f", "data\n");
  FerryServer server(t / "srv");
  auto ch = connect_authenticated(server.port());
  ASSERT_TRUE(ch);
  ferry::Get get;
  get.flags = kSyncGet;
  get.sources = {"d"};
  ASSERT_TRUE(ch->send(FrameType::kGet, ferry::encode(get)));
  ASSERT_TRUE(ch->flush());
  auto accepted = ch->recv();
  ASSERT_TRUE(accepted && accepted->type == FrameType::kAccept);
  ASSERT_TRUE(ch->start_packing());
  ferry::SignatureMsg sig{7, 700, 1ull << 40, 0, 16, {}};
  std::string payload = ferry::encode_signature_header(sig) + std::string(20 * 1000, 'x');
  ASSERT_TRUE(ch->send(FrameType::kSignature, payload));
  ASSERT_TRUE(ch->flush());
  std::string error;
  for (;;) {
    auto f = ch->recv();
    if (!f) break;
    if (f->type == FrameType::kError) {
      auto e = ferry::decode_error(f->payload);
      if (e) error = e->message;
      break;
    }
  }
  EXPECT_NE(error.find("unasked"), std::string::npos) << error;
  EXPECT_TRUE(server.alive()) << server.log();
  // And it still serves.
  auto r = ferry({"sync", "-q", server.url("d"), t / "copy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "copy/d/f"), "data\n");
}

TEST(SyncHostileClient, AContentsSyncOfALinkIsRefusedAndTheServerLives) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/real");
  write_file(t / "srv/real/f", "x\n");
  ASSERT_EQ(::symlink("real", (t / "srv/link").c_str()), 0);
  FerryServer server(t / "srv");
  // Downloading "link/": the server announces the link; the client refuses it.
  auto r = ferry({"sync", "-q", server.url("link/"), t / "dl"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("only a directory's contents"), std::string::npos) << r.err;
  // Uploading "link/" syncs what it leads to, as rsync does.
  auto u = ferry({"sync", "-q", t / "srv/link/", server.url("up")});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(read_file(t / "srv/up/f"), "x\n");
  EXPECT_TRUE(server.alive()) << server.log();
}

}  // namespace
}  // namespace e2e
