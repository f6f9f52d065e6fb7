// ferry sync against rsync: each test builds the same starting state in two
// targets, runs `rsync -a` with the flags under test into one and `ferry
// sync` with the same flags into the other (an upload to a ferry server, and
// a download from it), and compares the two results: contents, modes,
// mtimes, links, what was deleted, and what -n -i listed.
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"

namespace e2e {
namespace {

ProcResult sh(const std::string& script) {
  Process p({"/bin/bash", "-euc", script});
  return p.wait();
}

// A source tree: nested directories, files of several sizes (one big enough
// for a real delta), links, odd names and modes; fixed mtimes.
const char* kSourceTree = R"(
mkdir -p src/a/b/c src/empty src/docs "src/with space" src/build/obj
printf 'hello\n' > src/top.txt
printf 'alpha\n' > src/a/one.c
printf 'beta\n' > src/a/two.h
printf 'deep\n' > src/a/b/c/deep.c
printf 'keep\n' > src/a/b/keep.o
printf 'notes\n' > "src/with space/file name.txt"
printf 'obj\n' > src/build/obj/x.o
printf 'log\n' > src/build/run.log
head -c 3000000 /dev/urandom > src/big.bin
head -c 200000 /dev/urandom > src/docs/medium.bin
printf 'readme\n' > src/docs/README
chmod 0600 src/a/two.h; chmod 0755 src/a/one.c; chmod 0750 src/a/b
ln -s top.txt src/link-to-top
ln -s ../nowhere src/a/dangling
find src -exec touch -h -d '2024-01-02 03:04:05.123456789' {} +
)";

// What the targets hold before the sync: an older copy of the source, with
// files changed, missing, extraneous and of another kind.
const char* kOldTarget = R"(
cp -a src T
printf 'changed!\n' > T/top.txt
python3 - T/big.bin <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[1500000:1500010] = b'XXXXXXXXXX'
d = d[:100] + d[200:]
open(p, 'wb').write(bytes(d))
PY
rm T/docs/README
printf 'extra\n' > T/extra.txt
mkdir -p T/stale/dir; printf 's\n' > T/stale/dir/f
printf 'old\n' > T/a/b/old.o
rm -r T/empty; printf 'now a file\n' > T/empty
rm T/a/two.h; mkdir T/a/two.h; printf 'x\n' > T/a/two.h/inside
rm T/link-to-top; ln -s elsewhere T/link-to-top
chmod 0644 T/a/one.c
find T -exec touch -h -d '2024-01-02 03:04:05.123456789' {} +
# Same size and mtime, other content: only --checksum sees it.
printf 'ALPHA\n' > T/a/one.c; touch -d '2024-01-02 03:04:05.123456789' T/a/one.c
)";

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    // Items only ("YXcstpoguax NAME"): rsync prints some errors here too.
    if (l.size() < 13 || l[11] != ' ' || std::string("<>ch.*").find(l[0]) == std::string::npos)
      continue;
    if (l[0] == '<') l[0] = '>';  // an upload's items say "sent"
    out.insert(l);
  }
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& l : s) out += "  " + l + "\n";
  return out;
}

// The names of each file with several in `dir`, a group per file.
std::set<std::set<std::string>> link_groups(const std::string& dir) {
  auto r = sh("find " + dir + " -type f -links +1 -printf '%i %P\\n'");
  std::map<std::string, std::set<std::string>> by_inode;
  std::istringstream in(r.out);
  for (std::string inode, name; in >> inode >> name;) by_inode[inode].insert(name);
  std::set<std::set<std::string>> groups;
  for (auto& [inode, names] : by_inode) groups.insert(names);
  return groups;
}

// Every file's and directory's user.* attributes in `dir`, one line each.
std::string xattr_listing(const std::string& dir) {
  return sh("cd " + dir +
            " && python3 -c 'import os\n"
            "for root, dirs, files in sorted(os.walk(\".\")):\n"
            "  for n in sorted([root] + [os.path.join(root, f) for f in files]):\n"
            "    if os.path.islink(n): continue\n"
            "    a = {k: os.getxattr(n, k) for k in os.listxattr(n) if k.startswith(\"user.\")}\n"
            "    print(n, sorted(a.items()))'")
      .out;
}

// Attributes for the -X tests: new, changed, removed and unchanged ones,
// on files and directories, one value long.
const char* kXattrSetup = R"(python3 - <<'PY'
import os
def put(p, k, v): os.setxattr(p, k, v, follow_symlinks=False)
put('src/top.txt', 'user.color', b'blue')
put('src/big.bin', 'user.long', b'x' * 3000)
put('src/a', 'user.dir', b'yes')
put('src/docs/medium.bin', 'user.same', b'1')
for t in ('ref', 'got'):
    put(t + '/docs/medium.bin', 'user.same', b'1')
    put(t + '/a', 'user.stale', b'gone')
    put(t + '/top.txt', 'user.color', b'red')
    put(t + '/a/one.c', 'user.extra', b'drop me')
PY
)";

enum class Direction { kUpload, kDownload };

class SyncVsRsync : public testing::TestWithParam<Direction> {
 protected:
  void SetUp() override { ASSERT_EQ(sh("cd " + dir_.path() + "\n" + kSourceTree).exit_code, 0); }
  // Both targets start as the old target (or empty).
  void start_targets(bool old_state) {
    std::string script = "cd " + dir_.path() + "\nrm -rf ref got T\n";
    if (old_state) {
      script += kOldTarget;
      script += "cp -a T ref && cp -a T got && rm -rf T\n";
    }
    ASSERT_EQ(sh(script).exit_code, 0);
  }
  ProcResult rsync(const std::vector<std::string>& flags) {
    std::vector<std::string> argv{"/usr/bin/rsync", "-a"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(dir_ / "src/");
    argv.push_back(dir_ / "ref");
    Process p(argv);
    return p.wait();
  }
  ProcResult ferry_sync(const std::vector<std::string>& flags) {
    std::vector<std::string> argv{"sync", "-q"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    if (GetParam() == Direction::kUpload) {
      argv.push_back(dir_ / "src/");
      argv.push_back(server_.url("got"));
    } else {
      argv.push_back(server_.url("src/"));
      argv.push_back(dir_ / "got");
    }
    return ferry(argv);
  }
  // Runs both with `flags` and expects the same trees and the same items.
  // rsync fails (23) where something could not be done (a non-empty
  // directory in a file's way without --delete); ferry must fail then too (1).
  static void same_outcome(const ProcResult& r, const ProcResult& f) {
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 23) << r.err;
    EXPECT_EQ(f.exit_code, r.exit_code == 0 ? 0 : 1) << "rsync: " << r.err << "\nferry: " << f.err;
  }
  // `setup`: a script run in the test's directory once both targets are made.
  void same_as_rsync(const std::vector<std::string>& flags, bool old_state = true,
                     const std::string& setup = "") {
    start_targets(old_state);
    if (!setup.empty()) {
      ASSERT_EQ(sh("cd " + dir_.path() + "\n" + setup).exit_code, 0);
    }
    auto r = rsync(flags);
    auto f = ferry_sync(flags);
    same_outcome(r, f);
    if (dir_times_from_source_) {
      ASSERT_EQ(sh("cd " + dir_.path() +
                   "\nfor t in ref got; do (cd src && find . -type d) | while read -r d; do "
                   "[ -d \"$t/$d\" ] && touch -r \"src/$d\" \"$t/$d\"; done; done; true")
                    .exit_code,
                0);
    }
    for (const auto& d : made_now_)
      ASSERT_EQ(sh("cd " + dir_.path() + "\ntouch -r ref/" + d + " got/" + d).exit_code, 0);
    EXPECT_TRUE(trees_equal(dir_ / "ref", dir_ / "got"));
    EXPECT_EQ(listing(dir_ / "ref"), listing(dir_ / "got"));
  }
  void same_items(const std::vector<std::string>& flags, const std::string& setup = "") {
    start_targets(true);
    if (!setup.empty()) {
      ASSERT_EQ(sh("cd " + dir_.path() + "\n" + setup).exit_code, 0);
    }
    std::vector<std::string> with = flags;
    with.push_back("-n");
    with.push_back("-i");
    auto r = rsync(with);
    auto f = ferry_sync(with);
    same_outcome(r, f);
    auto want = lines_of(r.out), got = lines_of(f.out);
    EXPECT_EQ(want, got) << "rsync:\n" << joined(want) << "ferry:\n" << joined(got);
    // A dry run changes nothing.
    EXPECT_EQ(listing(dir_ / "ref"), listing(dir_ / "got"));
    EXPECT_TRUE(trees_equal(dir_ / "ref", dir_ / "got"));
  }

  TempDir dir_;
  FerryServer server_{dir_.path()};
  bool dir_times_from_source_ = false;
  // Directories each tool makes itself (a backup directory): their mtimes
  // are the times they were made.
  std::vector<std::string> made_now_;
};

TEST_P(SyncVsRsync, IntoAnEmptyTarget) {
  same_as_rsync({}, /*old_state=*/false);
}

// A target the sync makes is itemized as new ("cd+++++++++ ./"), by a dry
// run and by a real one.
TEST_P(SyncVsRsync, ItemsOfATargetItMakes) {
  for (const char* dry : {"-n", "-i"}) {
    start_targets(/*old_state=*/false);
    auto r = rsync({dry, "-i"});
    auto f = ferry_sync({dry, "-i"});
    same_outcome(r, f);
    auto want = lines_of(r.out), got = lines_of(f.out);
    EXPECT_TRUE(want.count("cd+++++++++ ./")) << r.out;
    EXPECT_EQ(want, got) << "rsync:\n" << joined(want) << "ferry:\n" << joined(got);
  }
}

TEST_P(SyncVsRsync, OverAnOlderCopy) {
  same_as_rsync({});
}

TEST_P(SyncVsRsync, Delete) {
  same_as_rsync({"--delete"});
}

TEST_P(SyncVsRsync, Checksum) {
  same_as_rsync({"--checksum"});
}

TEST_P(SyncVsRsync, Compress) {
  // Text that compresses, new and changed, so whole chunks and delta literals go packed.
  ASSERT_EQ(sh("cd " + dir_.path() +
               "\nseq 1 400000 > src/docs/numbers.txt"
               "\ntouch -d '2024-01-02 03:04:05.123456789' src/docs/numbers.txt src/docs")
                .exit_code,
            0);
  same_as_rsync({"-z", "--delete"}, true,
                "seq 1 390000 > ref/docs/numbers.txt; cp -a ref/docs/numbers.txt got/docs/");
}

TEST_P(SyncVsRsync, ExcludeProtectsFromDelete) {
  same_as_rsync({"--delete", "--exclude", "*.o", "--exclude", "/stale"});
}

TEST_P(SyncVsRsync, DeleteExcluded) {
  same_as_rsync({"--delete", "--delete-excluded", "--exclude", "*.o", "--exclude", "build/"});
}

TEST_P(SyncVsRsync, IncludeThenExcludeEverythingElse) {
  same_as_rsync({"--include", "*/", "--include", "*.c", "--exclude", "*"});
}

TEST_P(SyncVsRsync, AnchoredAndDoubleStar) {
  same_as_rsync({"--delete", "--exclude", "/a/b/**", "--exclude", "docs/*.bin"});
}

TEST_P(SyncVsRsync, PerDirectoryFilterFiles) {
  ASSERT_EQ(sh("cd " + dir_.path() +
               "\nprintf -- '- *.log\\n' > src/.rsync-filter"
               "\nprintf -- '- deep.c\\n' > src/a/.rsync-filter"
               "\nfind src -name .rsync-filter -exec touch -d '2024-01-02' {} +")
                .exit_code,
            0);
  // rsync leaves a directory's mtime at the time it created a file in it when
  // the directory itself looked unchanged (rsync 3.5.0, by hand: a new a/two.h
  // leaves a/ newer than the source's a/, with or without -F); ferry sets the
  // source's. The other tests see no such case; this one compares directory
  // mtimes only through the source's (both targets' are set from it after).
  const char* no_conflict = "rm -r ref/a/two.h got/a/two.h ref/a/b/old.o got/a/b/old.o";
  dir_times_from_source_ = true;
  same_as_rsync({"--delete", "-F"}, true, no_conflict);
  same_as_rsync({"--delete", "-FF"}, true, no_conflict);
  same_as_rsync({"--delete", "-aFrF"}, true, no_conflict);  // flags grouped, as rsync users type
}

TEST_P(SyncVsRsync, DryRunItemsAsRsync) {
  same_items({});
}

TEST_P(SyncVsRsync, DryRunItemsWithDelete) {
  same_items({"--delete"});
}

TEST_P(SyncVsRsync, DryRunItemsWithChecksumAndFilters) {
  same_items({"--checksum", "--delete", "--exclude", "*.o"});
}

// What is replaced or deleted is kept: beside it (NAME~; a deleted
// directory then stays, holding its files' backups), or in a backup
// directory inside the target, which --delete leaves alone. (rsync leaves
// the time of a directory it kept a deleted file in at the time it did so;
// ferry keeps the source's, so those times are taken from the source.)
TEST_P(SyncVsRsync, BackupBeside) {
  dir_times_from_source_ = true;
  made_now_ = {"a/two.h", "stale/dir"};  // directories kept for the backups in them
  same_as_rsync({"--delete", "-b"});
}

TEST_P(SyncVsRsync, BackupDirWithSuffix) {
  dir_times_from_source_ = true;
  made_now_ = {"BK", "BK/a", "BK/a/b", "BK/a/two.h", "BK/stale", "BK/stale/dir"};
  same_as_rsync({"--delete", "--backup-dir", "BK", "--suffix", ".old"});
}

TEST_P(SyncVsRsync, DryRunItemsWithBackup) {
  same_items({"--delete", "--backup"});
}

// -H: a file's names stay one file: new groups, a name added to a group,
// an old separate copy turned into a link, a directory in a link's way.
TEST_P(SyncVsRsync, HardLinks) {
  const std::string links =
      "ln src/top.txt src/a/hl-top; ln src/big.bin src/docs/hl-big; ln src/big.bin src/hl-big2\n"
      "ln src/a/b/c/deep.c src/a/b/c/deep-too.c\n"
      "for t in ref got; do printf 'hello\\n' > $t/a/hl-top; mkdir $t/hl-big2;"
      " ln $t/a/b/c/deep.c $t/a/b/c/deep-too.c; done\n"
      "touch -d '2024-01-02 03:04:05.123456789' src/a src/docs src src/a/b/c";
  same_as_rsync({"-H", "--delete"}, true, links);
  auto want = link_groups(dir_ / "ref");
  EXPECT_EQ(want.size(), 3u);
  EXPECT_EQ(link_groups(dir_ / "got"), want);
  auto again = ferry_sync({"-H", "--delete", "-i"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

// -X: extended attributes made the source's, on files (sent or skipped)
// and directories; the -n -i listing marks them with 'x' as rsync does.
TEST_P(SyncVsRsync, Xattrs) {
  same_as_rsync({"-X", "--delete"}, true, kXattrSetup);
  std::string want = xattr_listing(dir_ / "ref");
  EXPECT_NE(want.find("user.long"), std::string::npos) << want;
  EXPECT_EQ(xattr_listing(dir_ / "got"), want);
}

TEST_P(SyncVsRsync, DryRunItemsWithXattrs) {
  same_items({"-X"}, kXattrSetup);
}

TEST_P(SyncVsRsync, SecondRunChangesNothing) {
  same_as_rsync({"--delete"});
  auto f = ferry_sync({"--delete", "-i"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out, "");
}

// One source and a target that is not a directory: rsync's rule names the
// copy of a file or link after the target, and puts a directory inside it.
TEST_P(SyncVsRsync, OneSourceAndATargetThatIsNoDirectory) {
  ASSERT_EQ(sh("cd " + dir_.path() +
               "\nrm -rf ref got; mkdir ref"
               "\nprintf 'old contents\\n' > ref/existing.txt; printf 'x\\n' > ref/plain"
               "\nln -s nowhere ref/old-link; cp -a ref got")
                .exit_code,
            0);
  struct Case {
    std::string source, target;
  };
  // A dry run names the file as rsync does: by the source's name.
  Process dry_r({"/usr/bin/rsync", "-a", "-n", "-i", dir_ / "src/top.txt", dir_ / "ref/new.txt"});
  auto dry_f = GetParam() == Direction::kUpload
                   ? ferry({"sync", "-n", "-i", dir_ / "src/top.txt", server_.url("got/new.txt")})
                   : ferry({"sync", "-n", "-i", server_.url("src/top.txt"), dir_ / "got/new.txt"});
  EXPECT_EQ(lines_of(dry_f.out), lines_of(dry_r.wait().out)) << dry_f.out;
  for (const Case& c : std::vector<Case>{{"top.txt", "new.txt"},
                                         {"top.txt", "existing.txt"},
                                         {"big.bin", "old-link"},
                                         {"link-to-top", "new-link"},
                                         {"a", "newdir"},
                                         {"docs/README", "made/"}}) {
    Process r({"/usr/bin/rsync", "-a", dir_ / ("src/" + c.source), dir_ / ("ref/" + c.target)});
    auto rr = r.wait();
    ASSERT_EQ(rr.exit_code, 0) << c.source << " -> " << c.target << ": " << rr.err;
    auto f =
        GetParam() == Direction::kUpload
            ? ferry({"sync", "-q", dir_ / ("src/" + c.source), server_.url("got/" + c.target)})
            : ferry({"sync", "-q", server_.url("src/" + c.source), dir_ / ("got/" + c.target)});
    EXPECT_EQ(f.exit_code, 0) << c.source << " -> " << c.target << ": " << f.err;
  }
  // The directories each made for a target have the time they were made.
  ASSERT_EQ(sh("cd " + dir_.path() + "\ntouch -r ref/made got/made; touch -r ref/newdir got/newdir")
                .exit_code,
            0);
  EXPECT_TRUE(trees_equal(dir_ / "ref", dir_ / "got"));
  EXPECT_EQ(listing(dir_ / "ref"), listing(dir_ / "got"));
  // A directory is not synced over a file, by either.
  Process r({"/usr/bin/rsync", "-a", dir_ / "src/a", dir_ / "ref/plain"});
  EXPECT_NE(r.wait().exit_code, 0);
  auto f = GetParam() == Direction::kUpload
               ? ferry({"sync", "-q", dir_ / "src/a", server_.url("got/plain")})
               : ferry({"sync", "-q", server_.url("src/a"), dir_ / "got/plain"});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.err.find("not a directory"), std::string::npos) << f.err;
  EXPECT_EQ(read_file(dir_ / "got/plain"), "x\n");
}

INSTANTIATE_TEST_SUITE_P(BothDirections, SyncVsRsync,
                         testing::Values(Direction::kUpload, Direction::kDownload),
                         [](const auto& info) {
                           return info.param == Direction::kUpload ? "Upload" : "Download";
                         });

// Backup places that would lose the old file are refused, as rsync refuses
// them; a backup directory several levels deep is made.
TEST(SyncBackup, APlaceThatWouldLoseTheOldFileIsRefused) {
  TempDir t;
  ASSERT_EQ(sh("cd " + t.path() +
               "\nmkdir -p src/d srv/t/d local/d"
               "\necho new > src/d/f; echo old > srv/t/d/f; echo old > local/d/f"
               "\ntouch -d 2020-01-01 srv/t/d/f local/d/f")
                .exit_code,
            0);
  FerryServer server(t / "srv");
  auto up = ferry({"sync", "-q", "--backup-dir", ".", t / "src/", server.url("t")});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("the target itself"), std::string::npos) << up.err;
  EXPECT_EQ(read_file(t / "srv/t/d/f"), "old\n");
  auto down = ferry({"sync", "-q", "--backup-dir", ".", server.url("src/"), t / "local"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("the target itself"), std::string::npos) << down.err;
  EXPECT_EQ(read_file(t / "local/d/f"), "old\n");
  auto empty = ferry({"sync", "-q", "--backup-dir", "", t / "src/", server.url("t")});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("--backup-dir: an empty name"), std::string::npos) << empty.err;
  auto deep = ferry({"sync", "-q", "--backup-dir", "x/y/z", t / "src/", server.url("t")});
  ASSERT_EQ(deep.exit_code, 0) << deep.err;
  EXPECT_EQ(read_file(t / "srv/t/x/y/z/d/f"), "old\n");
  EXPECT_EQ(read_file(t / "srv/t/d/f"), "new\n");
}

// As rsync: when the sender could not read every entry, the receiver
// deletes nothing (what it holds may be what the sender missed) and the
// sync fails. The unreadable entry: a file whose attributes are over the
// 16 MiB an XATTRS frame may carry (tmpfs allows it).
TEST(SyncDelete, NothingIsDeletedWhenTheSenderCouldNotReadEverything) {
  TempDir t("/dev/shm");
  ASSERT_EQ(sh("cd " + t.path() +
               "\nmkdir -p src srv/t; echo a > src/a; echo big > src/big"
               "\necho old > srv/t/big; echo extra > srv/t/extra"
               "\npython3 -c \"import os\nfor i in range(260): "
               "os.setxattr('src/big', 'user.v%03d' % i, b'x' * 65536)\"")
                .exit_code,
            0);
  FerryServer server(t / "srv");
  auto r = ferry({"sync", "-q", "-X", "--delete", t / "src/", server.url("t")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not sent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was deleted"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t / "srv/t/extra"), "extra\n");
  EXPECT_EQ(read_file(t / "srv/t/big"), "old\n");
  EXPECT_EQ(read_file(t / "srv/t/a"), "a\n");
}

// A changed big file travels as a delta: far fewer bytes than the file.
TEST(SyncDelta, SendsOnlyWhatChanged) {
  TempDir dir;
  ASSERT_EQ(sh("cd " + dir.path() +
               "\nmkdir src got"
               "\nhead -c 8000000 /dev/urandom > src/f"
               "\ncp -a src/f got/f"
               "\nprintf 'INSERTED' | dd of=src/f bs=1 seek=4000000 conv=notrunc 2>/dev/null"
               "\npython3 -c \"import sys; d=open('src/f','rb').read(); "
               "open('src/f','wb').write(d[:1000]+b'new bytes'+d[1000:])\"")
                .exit_code,
            0);
  FerryServer server(dir.path());
  auto f = ferry({"sync", "-q", "--json", dir / "src/", server.url("got")});
  ASSERT_EQ(f.exit_code, 0) << f.err << server.log();
  auto j = nlohmann::json::parse(f.out);
  EXPECT_LT(j["bytes"].get<uint64_t>(), 100000u) << f.out;
  EXPECT_EQ(read_file(dir / "src/f"), read_file(dir / "got/f"));
}

// The sweep never follows a symlink out of the target.
TEST(SyncDelete, NeverFollowsALinkOutOfTheTarget) {
  TempDir dir;
  ASSERT_EQ(sh("cd " + dir.path() +
               "\nmkdir -p src outside/keep got"
               "\nprintf 'x\\n' > src/file; printf 'precious\\n' > outside/keep/p"
               "\nln -s ../outside got/evil; ln -s ../outside/keep got/evil2")
                .exit_code,
            0);
  FerryServer server(dir.path());
  auto f = ferry({"sync", "-q", "--delete", dir / "src/", server.url("got")});
  ASSERT_EQ(f.exit_code, 0) << f.err << server.log();
  EXPECT_FALSE(exists(dir / "got/evil"));
  EXPECT_EQ(read_file(dir / "outside/keep/p"), "precious\n");
  EXPECT_EQ(listing(dir / "got"), "file");
}

// Bad filter input is a one-line error and exit 2, before any connection.
TEST(SyncUsage, BadFilterRuleIsRefused) {
  auto f = ferry({"sync", "--filter", "Q what", "/tmp/", "ferry://127.0.0.1:1/x"});
  EXPECT_EQ(f.exit_code, 2) << f.err;
  EXPECT_NE(f.err.find("--filter"), std::string::npos) << f.err;
}

}  // namespace
}  // namespace e2e
