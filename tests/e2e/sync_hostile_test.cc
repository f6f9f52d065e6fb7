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

// A plain sync GET's flags: compression off (--no-compress), and by default.
constexpr uint32_t kSyncGetPlain = ferry::kFlagRecursive | ferry::kFlagSync;
constexpr uint32_t kSyncGet = kSyncGetPlain | ferry::kFlagCompress | ferry::kFlagCompressAuto;

// The answer a real server gives a plain sync GET, then packing as it does.
bool accept_sync(Channel& ch, uint32_t flags = kSyncGet) {
  ferry::Accept a;
  a.flags = flags;
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

// A server announcing one new file, then sending `frame` as its data.
FakeServer::Script one_file_then(uint32_t flags, FrameType type, std::string payload) {
  return [=](Channel& ch) {
    if (!accept_sync(ch, flags)) return;
    (void)ch.send(FrameType::kEntry, ferry::encode(file_entry(1, "f", 100)));
    (void)ch.flush();
    auto want = ch.recv();
    if (!want) return;
    (void)ch.send(type, payload);
    (void)ch.flush();
    while (ch.recv()) {
    }
  };
}

// A server announcing a directory "d", an empty file "d/f" (flags
// `file_flags`), then a hard link "d/l" naming `first`.
FakeServer::Script hard_link_to(uint32_t flags, uint8_t file_flags, const std::string& first) {
  return [=](Channel& ch) {
    if (!accept_sync(ch, flags)) return;
    ferry::Entry d = file_entry(1, "d", 0);
    d.kind = ferry::EntryKind::kDir;
    d.mode = 0755;
    ferry::Entry f = file_entry(2, "d/f", 0);
    f.flags = file_flags;
    ferry::Entry l = file_entry(3, "d/l", 0);
    l.kind = ferry::EntryKind::kHardLink;
    l.link_target = first;
    (void)ch.send(FrameType::kEntry, ferry::encode(d));
    (void)ch.send(FrameType::kEntry, ferry::encode(f));
    (void)ch.send(FrameType::kEntry, ferry::encode(l));
    (void)ch.flush();
    while (ch.recv()) {
    }
  };
}

// A hard link from a server is taken only with -H, and only to a file the
// same transfer announced as having more names: never to a file of the
// client's own, never out of the target.
TEST(SyncHostileServer, HardLinksToAnythingButAnAnnouncedFileAreRefused) {
  TempDir t;
  std::filesystem::create_directories(t / "dst");
  write_file(t / "dst/secret", "the client's own\n");
  uint32_t with_h = kSyncGet | ferry::kFlagHardLinks;
  struct Case {
    uint32_t flags;
    uint8_t file_flags;
    std::string first;
    std::vector<std::string> extra;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {kSyncGet, ferry::kEntryHasLinks, "d/f", {}, "hard link without -H"},
           {with_h, 0, "d/f", {"-H"}, "not a file announced as linked"},
           {with_h, ferry::kEntryHasLinks, "secret", {"-H"}, "not a file announced as linked"},
           {with_h, ferry::kEntryHasLinks, "../../etc/passwd", {"-H"}, "not a file announced"}}) {
    FakeServer fake(hard_link_to(c.flags, c.file_flags, c.first));
    std::vector<std::string> argv{"sync", "-q", "--reconnects", "0"};
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    argv.push_back(fake.url("d"));
    argv.push_back(t / "dst");
    auto r = ferry(argv);
    EXPECT_EQ(r.exit_code, 1) << c.first << ": " << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.first << ": " << r.err;
    EXPECT_FALSE(exists(t / "dst/d/l")) << c.first;
  }
  EXPECT_EQ(read_file(t / "dst/secret"), "the client's own\n");
}

// XATTRS only with -X, and only well formed.
TEST(SyncHostileServer, AttributesNobodyAskedForOrMalformedAreRefused) {
  TempDir t;
  std::string one = ferry::encode(ferry::XattrsMsg{1, {{"user.a", "1"}}});
  FakeServer unasked(one_file_then(kSyncGet, FrameType::kXattrs, one));
  auto r = ferry({"sync", "-q", "--reconnects", "0", unasked.url("f"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("XATTRS without -X"), std::string::npos) << r.err;
  std::string unsorted = ferry::encode(ferry::XattrsMsg{2, {{"user.b", "1"}, {"user.a", "2"}}});
  FakeServer bad(one_file_then(kSyncGet | ferry::kFlagXattrs, FrameType::kXattrs, unsorted));
  r = ferry({"sync", "-q", "-X", "--reconnects", "0", bad.url("f"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not sorted"), std::string::npos) << r.err;
}

std::string data_z(uint32_t raw_len, const std::string& raw) {
  std::string packed(ZSTD_compressBound(raw.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), 1));
  std::string p(ferry::kDataZPrefixSize, '\0');
  auto* b = reinterpret_cast<uint8_t*>(p.data());
  ferry::encode_data_header(b, {1, 0, 0});
  b[20] = static_cast<uint8_t>(raw_len >> 24);
  b[21] = static_cast<uint8_t>(raw_len >> 16);
  b[22] = static_cast<uint8_t>(raw_len >> 8);
  b[23] = static_cast<uint8_t>(raw_len);
  return p + packed;
}

TEST(SyncHostileServer, CompressedDataNobodyAskedForIsRefused) {
  TempDir t;
  FakeServer fake(
      one_file_then(kSyncGetPlain, FrameType::kDataZ, data_z(100, std::string(100, 'a'))));
  auto r = ferry({"sync", "-q", "--no-compress", "--reconnects", "0", fake.url("f"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("DATA_Z without -z"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(t / "dst/f"));
}

TEST(SyncHostileServer, CompressedDataLongerThanAnnouncedIsRefused) {
  TempDir t;
  FakeServer fake(one_file_then(kSyncGetPlain | ferry::kFlagCompress, FrameType::kDataZ,
                                data_z(10, std::string(100, 'a'))));
  auto r = ferry({"sync", "-q", "-z", "--reconnects", "0", fake.url("f"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("does not unpack to the 10 bytes announced"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(t / "dst/f"));
}

TEST(SyncHostileServer, ASumWithoutChecksumIsRefused) {
  TempDir t;
  FakeServer fake([](Channel& ch) {
    if (!accept_sync(ch)) return;
    (void)ch.send(FrameType::kSum, ferry::encode(ferry::SumMsg{1, {}}));
    (void)ch.flush();
    while (ch.recv()) {
    }
  });
  auto r = ferry({"sync", "-q", "--reconnects", "0", fake.url("f"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("SUM without --checksum"), std::string::npos) << r.err;
}

// What a client sends the server first: a request (a PUT, or a GET), its
// FILTER and its BACKUP (`backup` as encoded; any bytes).
std::string server_answer(uint16_t port, uint32_t flags, const std::vector<std::string>& rules,
                          const std::string& backup = "", bool get = false) {
  auto ch = connect_authenticated(port);
  if (!ch) return "no connection";
  ferry::Put put;
  put.flags = flags;
  put.source_count = 1;
  put.target = "t";
  ferry::Get g;
  g.flags = flags;
  g.sources = {"t"};
  if (!(get ? ch->send(FrameType::kGet, ferry::encode(g))
            : ch->send(FrameType::kPut, ferry::encode(put))))
    return "send failed";
  if (flags & ferry::kFlagFilter)
    if (!ch->send(FrameType::kFilter, ferry::encode(ferry::FilterMsg{rules}))) return "send failed";
  if (flags & ferry::kFlagBackup)
    if (!ch->send(FrameType::kBackup, backup)) return "send failed";
  if (!ch->flush()) return "flush failed";
  auto f = ch->recv();
  if (!f) return f.error().message();
  if (f->type != FrameType::kError) return ferry::frame_name(f->type);
  auto e = ferry::decode_error(f->payload);
  return e ? e->message : "malformed ERROR";
}

TEST(SyncHostileClient, UnknownFlagsAndForbiddenRulesAreRefusedByName) {
  TempDir t;
  std::filesystem::create_directories(t / "srv");
  FerryServer server(t / "srv");
  EXPECT_NE(server_answer(server.port(), kSyncGet | (1u << 30), {}).find("not known"),
            std::string::npos);
  EXPECT_NE(server_answer(server.port(), ferry::kFlagDelete, {}).find("without the sync flag"),
            std::string::npos);
  uint32_t with_filter = kSyncGet | ferry::kFlagFilter;
  EXPECT_NE(server_answer(server.port(), with_filter, {". /etc/passwd"}).find("local merge file"),
            std::string::npos);
  std::vector<std::string> merges;
  for (int i = 0; i < 9; ++i) merges.push_back(": .f" + std::to_string(i));
  EXPECT_NE(server_answer(server.port(), with_filter, merges).find("dir-merge"), std::string::npos);
  EXPECT_NE(server_answer(server.port(), with_filter, {std::string(300000, '*')}).find("bytes"),
            std::string::npos);
  EXPECT_TRUE(server.alive()) << server.log();
  EXPECT_FALSE(exists(t / "srv/t"));
}

// A client's BACKUP place: never outside the served directory (by "..",
// an absolute path or a link), never an empty suffix alone, never on a
// download; each refused by name, and the server lives on.
TEST(SyncHostileClient, BackupPlacesOutsideTheServedDirectoryAreRefused) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/t");
  std::filesystem::create_directories(t / "outside");
  std::filesystem::create_symlink(t / "outside", t / "srv/t/out");
  FerryServer server(t / "srv");
  uint32_t flags = kSyncGet | ferry::kFlagBackup;
  auto answer = [&](const std::string& suffix, const std::string& dir, bool get = false) {
    return server_answer(server.port(), flags, {}, ferry::encode(ferry::BackupMsg{suffix, dir}),
                         get);
  };
  EXPECT_NE(answer("", "../../x").find("leaves the served directory"), std::string::npos);
  EXPECT_NE(answer("", "/tmp").find("relative to the target"), std::string::npos);
  EXPECT_NE(answer("", "").find("empty suffix"), std::string::npos);
  EXPECT_NE(answer("a/b", "").find("'/'"), std::string::npos);
  EXPECT_NE(answer("~", "", /*get=*/true).find("BACKUP on a download"), std::string::npos);
  std::string through_link = answer("", "out/bk");
  EXPECT_EQ(through_link.find("ACCEPT"), std::string::npos) << through_link;
  std::string cut = server_answer(server.port(), flags, {}, "\x01", false);
  EXPECT_NE(cut.find("BACKUP"), std::string::npos) << cut;
  EXPECT_TRUE(server.alive()) << server.log();
  EXPECT_FALSE(exists(t / "outside/bk"));
}

// A link planted inside the backup directory leads no backup out of it: the
// file is neither kept there nor replaced, and the sync says why.
TEST(SyncHostileClient, ALinkInsideTheBackupDirectoryIsNotFollowed) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/d/sub");
  std::filesystem::create_directories(t / "srv/bk");
  std::filesystem::create_directories(t / "outside");
  std::filesystem::create_symlink(t / "outside", t / "srv/bk/sub");
  write_file(t / "srv/d/sub/f", "old\n");
  std::filesystem::create_directories(t / "src/sub");
  write_file(t / "src/sub/f", "new contents\n");
  FerryServer server(t / "srv");
  auto r = ferry({"sync", "-q", "--backup-dir", "../bk", t / "src/", server.url("d")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(t / "outside"));
  EXPECT_EQ(read_file(t / "srv/d/sub/f"), "old\n");
  EXPECT_TRUE(server.alive()) << server.log();
}

// A client's trusted.* and security.* attributes (a security.capability is
// a set-id bit by another name) are not set by a server that does not trust
// its token holders with root's powers; user.* ones are.
TEST(SyncHostileClient, PrivilegedAttributesNeedKeepOwners) {
  TempDir t;
  std::filesystem::create_directories(t / "src");
  std::filesystem::create_directories(t / "srv");
  write_file(t / "src/f", "data\n");
  ASSERT_EQ(Process({"/usr/bin/python3", "-c",
                     "import os, sys; os.setxattr(sys.argv[1], 'user.a', b'1');"
                     "os.setxattr(sys.argv[1], 'trusted.b', b'2')",
                     t / "src/f"})
                .wait()
                .exit_code,
            0);
  FerryServer server(t / "srv");
  auto r = ferry({"sync", "-q", "-X", t / "src/", server.url("d")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto names = Process({"/usr/bin/python3", "-c",
                        "import os, sys; print(sorted(os.listxattr(sys.argv[1])))", t / "srv/d/f"})
                   .wait();
  EXPECT_EQ(names.out, "['user.a']\n");
  EXPECT_TRUE(server.alive()) << server.log();
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

// What an uploading client announces after its request, frame by frame;
// the server's ERROR message (or what ended the conversation).
std::string server_error_after(uint16_t port, uint32_t flags,
                               const std::vector<std::pair<FrameType, std::string>>& frames) {
  auto ch = connect_authenticated(port);
  if (!ch) return "no connection";
  ferry::Put put;
  put.flags = flags;
  put.source_count = 1;
  put.target = "t";
  if (!ch->send(FrameType::kPut, ferry::encode(put)) || !ch->flush()) return "send failed";
  auto accepted = ch->recv();
  if (!accepted || accepted->type != FrameType::kAccept) return "no ACCEPT";
  if (!ch->start_packing()) return "no packing";
  for (const auto& [type, payload] : frames)
    if (!ch->send(type, payload)) return "send failed";
  if (!ch->flush()) return "flush failed";
  for (;;) {
    auto f = ch->recv();
    if (!f) return f.error().message();
    if (f->type == FrameType::kError) {
      auto e = ferry::decode_error(f->payload);
      return e ? e->message : "malformed ERROR";
    }
  }
}

// An uploading client's hard links and DONE are judged as a server's are:
// a HARDLINK only with -H and only to a file it announced as linked (never
// to one of the server's own files, never out of the target); a DONE only
// with the one byte the protocol knows. Refused by name; the server lives.
TEST(SyncHostileClient, HardLinksAndDoneFromAClientAreJudgedToo) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/t");
  write_file(t / "srv/secret", "the server's own\n");
  FerryServer server(t / "srv");
  uint32_t with_h = kSyncGetPlain | ferry::kFlagHardLinks;
  ferry::Entry d = file_entry(1, "d", 0);
  d.kind = ferry::EntryKind::kDir;
  d.mode = 0755;
  ferry::Entry f = file_entry(2, "d/f", 0);
  f.flags = ferry::kEntryHasLinks;
  auto link_to = [](const std::string& first) {
    ferry::Entry l = file_entry(3, "d/l", 0);
    l.kind = ferry::EntryKind::kHardLink;
    l.link_target = first;
    return std::pair{FrameType::kEntry, ferry::encode(l)};
  };
  auto entry = [](const ferry::Entry& e) { return std::pair{FrameType::kEntry, ferry::encode(e)}; };
  EXPECT_NE(server_error_after(server.port(), kSyncGetPlain, {entry(d), entry(f), link_to("d/f")})
                .find("hard link without -H"),
            std::string::npos);
  for (const char* first : {"../secret", "../../etc/passwd", "d"})
    EXPECT_NE(server_error_after(server.port(), with_h, {entry(d), entry(f), link_to(first)})
                  .find("not a file announced as linked"),
              std::string::npos)
        << first;
  EXPECT_NE(server_error_after(server.port(), kSyncGetPlain, {{FrameType::kDone, "\x02"}})
                .find("DONE with an unknown payload"),
            std::string::npos);
  EXPECT_TRUE(server.alive()) << server.log();
  EXPECT_EQ(read_file(t / "srv/secret"), "the server's own\n");
  EXPECT_FALSE(exists(t / "srv/t/d/l"));
}

// An uploading client's XATTRS and compressed data are judged as a
// server's are: XATTRS only with -X and well formed, DATA_Z only with -z.
TEST(SyncHostileClient, AttributesAndCompressedDataFromAClientAreJudgedToo) {
  TempDir t;
  std::filesystem::create_directories(t / "srv/t");
  FerryServer server(t / "srv");
  auto frame = [](FrameType type, std::string payload) { return std::pair{type, payload}; };
  std::string one = ferry::encode(ferry::XattrsMsg{1, {{"user.a", "1"}}});
  std::string unsorted = ferry::encode(ferry::XattrsMsg{1, {{"user.b", "1"}, {"user.a", "2"}}});
  std::string entry = ferry::encode(file_entry(1, "f", 100));
  EXPECT_NE(server_error_after(server.port(), kSyncGetPlain, {frame(FrameType::kXattrs, one)})
                .find("XATTRS without -X"),
            std::string::npos);
  EXPECT_NE(server_error_after(server.port(), kSyncGetPlain | ferry::kFlagXattrs,
                               {frame(FrameType::kXattrs, unsorted)})
                .find("not sorted"),
            std::string::npos);
  auto z = server_error_after(server.port(), kSyncGetPlain,
                              {frame(FrameType::kEntry, entry),
                               frame(FrameType::kDataZ, data_z(100, std::string(100, 'a')))});
  EXPECT_NE(z.find("DATA_Z without -z"), std::string::npos) << z;
  EXPECT_TRUE(server.alive()) << server.log();
  EXPECT_FALSE(exists(t / "srv/t/f"));
}

// A server's DONE with a payload the protocol does not know is refused.
TEST(SyncHostileServer, ADoneWithAnUnknownPayloadIsRefused) {
  TempDir t;
  FakeServer fake([](Channel& ch) {
    if (!accept_sync(ch)) return;
    (void)ch.send(FrameType::kDone, std::string("\x01\x01", 2));
    (void)ch.flush();
    while (ch.recv()) {
    }
  });
  auto r = ferry({"sync", "-q", "--reconnects", "0", fake.url("d"), t / "dst"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("DONE"), std::string::npos) << r.err;
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
