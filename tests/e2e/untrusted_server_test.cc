// A download trusts no server: every entry a server announces is checked
// against what the client asked for (scp's CVE-2019-6111), a source the
// server sent nothing for is an error, never "ok", and a server's text
// cannot drive the user's terminal. Hostile servers are played by the test,
// speaking the wire protocol through the ferry library's codecs; the
// ordinary cases use the real `ferry serve`.
#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include <xxhash.h>

#include "ferry/codec.h"
#include "ferry/diagnosis.h"
#include "ferry/messages.h"
#include "tests/e2e/harness.h"

namespace e2e {
namespace {
using namespace ferry;

Entry entry(uint32_t id, EntryKind kind, std::string path) {
  Entry e;
  e.id = id;
  e.kind = kind;
  e.mode = kind == EntryKind::kDir ? 0755 : 0644;
  e.path = std::move(path);
  return e;
}

// A server that accepts, announces `entries`, then waits for the client to go.
FakeServer::Script announcing(std::vector<Entry> entries) {
  return [entries = std::move(entries)](Channel& ch) {
    (void)ch.send(FrameType::kAccept, encode(Accept{}));
    for (const Entry& e : entries) (void)ch.send(FrameType::kEntry, encode(e));
    (void)ch.flush();
    while (ch.recv()) {
    }
  };
}

class UntrustedServer : public testing::Test {
 protected:
  void SetUp() override { mkdir((t / "dl").c_str(), 0755); }
  // Downloads `path` from a server playing `script`; the download must fail,
  // naming `needle`, and leave nothing in dl/.
  void expect_refused(FakeServer::Script script, std::vector<std::string> args,
                      const std::string& needle) {
    FakeServer fake(std::move(script));
    std::vector<std::string> argv = {"cp"};
    for (auto& a : args) argv.push_back(a == "URL" ? fake.url("wanted.txt") : a);
    argv.push_back(t / "dl");
    auto r = ferry(argv);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(listing(t / "dl").find(".bashrc"), std::string::npos) << listing(t / "dl");
    EXPECT_FALSE(exists(t / "dl/DIR"));
  }
  TempDir t;
};

TEST_F(UntrustedServer, AnEntryUnderANameNotAskedForEndsTheDownload) {
  expect_refused(
      announcing({entry(1, EntryKind::kFile, "wanted.txt"), entry(2, EntryKind::kDir, "DIR"),
                  entry(3, EntryKind::kFile, "DIR/.bashrc")}),
      {"-r", "URL"}, "the server sent 'DIR', which was not asked for");
}

TEST_F(UntrustedServer, WithoutRecursionNoDirectoryAndNothingInsideOneIsAccepted) {
  expect_refused(announcing({entry(1, EntryKind::kDir, "wanted.txt")}), {"URL"},
                 "a directory, and -r was not given");
  expect_refused(announcing({entry(1, EntryKind::kFile, "wanted.txt/.bashrc")}), {"URL"},
                 "inside a directory, and -r was not given");
}

TEST_F(UntrustedServer, TheRequestedNameTwiceOrAChildBeforeItsDirectoryIsRefused) {
  expect_refused(announcing({entry(1, EntryKind::kFile, "wanted.txt"),
                             entry(2, EntryKind::kFile, "wanted.txt")}),
                 {"URL"}, "announced a second time");
  expect_refused(announcing({entry(1, EntryKind::kFile, "wanted.txt/sub/.bashrc")}), {"-r", "URL"},
                 "its directory was not announced before it");
}

TEST_F(UntrustedServer, ASymlinkTargetThatSymlinkCannotHoldWholeIsRefused) {
  // A NUL would cut the target short: the link made would not be the one sent.
  for (std::string target : {std::string("/etc\0/x", 7), std::string(), std::string(4096, 'a')}) {
    Entry link = entry(1, EntryKind::kSymlink, "wanted.txt");
    link.link_target = target;
    expect_refused(announcing({link}), {"URL"}, "symlink's target");
  }
  // And a target on something that is not a symlink.
  Entry file = entry(1, EntryKind::kFile, "wanted.txt");
  file.link_target = "/etc/passwd";
  expect_refused(announcing({file}), {"URL"}, "only a link has a link target");
}

TEST_F(UntrustedServer, AMissingSourceIsAnErrorNotOk) {
  mkdir((t / "srv").c_str(), 0755);
  mkdir((t / "srv/adir").c_str(), 0755);
  write_file(t / "srv/here.txt", "here");
  FerryServer server(t / "srv");
  auto missing = ferry({"cp", "--json", server.url("nothere.txt"), t / "dl"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("nothere.txt: the server sent nothing for it"), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.out.find("\"ok\":false"), std::string::npos) << missing.out;
  // A directory without -r: the same, and nothing is created.
  auto dir = ferry({"cp", server.url("adir"), t / "dl"});
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_NE(dir.err.find("adir: the server sent nothing for it"), std::string::npos) << dir.err;
  // One present and one missing: the present one arrives, the run still fails.
  auto both = ferry({"cp", server.url("here.txt"), server.url("nothere.txt"), t / "dl"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_EQ(read_file(t / "dl/here.txt"), "here");
  EXPECT_EQ(listing(t / "dl"), "here.txt");
  // And an ordinary download is still ok.
  auto ok = ferry({"cp", "--json", server.url("here.txt"), t / "dl/again.txt"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"ok\":true"), std::string::npos) << ok.out;
}

TEST_F(UntrustedServer, AStatsSampleWithABadCpuFieldEndsTheDownloadWithOneLine) {
  // The sending server's sample claims its thread waited 300% of the time.
  expect_refused(
      [](Channel& ch) {
        (void)ch.send(FrameType::kAccept, encode(Accept{}));
        Sample s;
        s.role = "sender";
        s.interval = 0.2;
        nlohmann::json j = s.to_json();
        j["cpu_wait"] = 3;
        (void)ch.send(FrameType::kStats, j.dump());
        (void)ch.send(FrameType::kEntry, encode(entry(1, EntryKind::kFile, "wanted.txt")));
        (void)ch.flush();
        while (ch.recv()) {
        }
      },
      {"URL"}, "cpu_wait");
  EXPECT_FALSE(exists(t / "dl/wanted.txt"));
}

// The client's side of Hostile.ASlowButSteadyClientIsNotDropped: a
// plaintext server that sends a DATA frame 64 KiB every 400 ms under
// --timeout 1 makes progress, and the download completes. (A read waits for
// the rest of a frame, up to 256 KiB, but never longer than 200 ms without
// taking what came.)
TEST_F(UntrustedServer, ASlowButSteadyServerIsNotDroppedMidFrame) {
  std::string data(640 << 10, 'w');
  for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>(i);
  FakeServer fake(
      [&](Channel& ch) {
        (void)ch.send(FrameType::kAccept, encode(Accept{}));
        Entry e = entry(1, EntryKind::kFile, "wanted.txt");
        e.size = data.size();
        (void)ch.send(FrameType::kEntry, encode(e));
        (void)ch.flush();
        auto want = ch.recv();
        if (!want || want->type != FrameType::kWant) return;
        std::string frame = e2e::raw_data_frame(1, 0, data);
        for (size_t at = 0; at < frame.size(); at += 64 << 10) {
          size_t n = std::min<size_t>(64 << 10, frame.size() - at);
          if (!ch.transport().write_all(frame.data() + at, n)) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(400));
        }
        (void)ch.send(FrameType::kFileEnd, encode(FileEnd{1, FileEndStatus::kOk, ""}));
        (void)ch.send(FrameType::kDone, "");
        (void)ch.flush();
        while (ch.recv()) {
        }
      },
      /*plaintext=*/true);
  auto r = ferry({"cp", "--plaintext", "--timeout", "1", fake.url("wanted.txt"), t / "dl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("no progress"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t / "dl/wanted.txt"), data);
}

TEST_F(UntrustedServer, AServersErrorTextCannotDriveTheTerminal) {
  FakeServer fake([](Channel& ch) {
    (void)ch.send(FrameType::kError,
                  encode(ErrorMsg{1, "no\r\nferry: ok\x1b[2J\x1b]0;owned\x07 done"}));
    (void)ch.flush();
  });
  auto r = ferry({"cp", fake.url("wanted.txt"), t / "dl"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "an escape reached the terminal";
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("no\\x0d\\x0aferry: ok\\x1b[2J"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace e2e
