// A container's files from the host, against docker's: cp both ways (and
// its tar streams), export and diff, the same words given to a private
// dockerd and to berth (side_by_side.h), each copying into a host
// directory of its own ("DIR" in the words).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

namespace fs = std::filesystem;
using e2e::ProcResult;

// The words each container "fc" ran: files added, a directory of the
// image changed, one of its files deleted, and a symlink to /etc.
constexpr const char* kChanges =
    "mkdir -p /work/sub && echo one > /work/a && echo two > /work/sub/b && "
    "chown -R 1000:1000 /work/sub && chmod 640 /work/a && rm /bin/wc && echo t > /tmp/t && "
    "ln -s /etc /work/link";

struct Files : bt::SideBySide {
  e2e::TempDir host;
  std::string our_dir = host.path() + "/ours", their_dir = host.path() + "/theirs";
  Files() {
    fs::create_directories(our_dir);
    fs::create_directories(their_dir);
    for (auto side : {&Files::ours_in, &Files::theirs_in}) {
      auto r = (this->*side)({"run", "--name", "fc", "IMG", "sh", "-c", kChanges});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
  static std::vector<std::string> with_dir(std::vector<std::string> words, const std::string& dir) {
    // On from after each replacement: a temporary directory's random name may hold "DIR".
    for (auto& w : words)
      for (size_t at = w.find("DIR"); at != std::string::npos; at = w.find("DIR", at + dir.size()))
        w.replace(at, 3, dir);
    return words;
  }
  ProcResult ours_in(const std::vector<std::string>& words) {
    return ours(with_dir(words, our_dir));
  }
  ProcResult theirs_in(const std::vector<std::string>& words) {
    return theirs(with_dir(words, their_dir));
  }
  // Both run `words`, end with `exit` and print the same.
  void same(const std::vector<std::string>& words, int exit = 0) {
    std::string what = ::testing::PrintToString(words);
    auto theirs = theirs_in(words);
    auto ours = ours_in(words);
    EXPECT_EQ(theirs.exit_code, exit) << what << theirs.err;
    EXPECT_EQ(ours.exit_code, exit) << what << ours.err;
    if (exit == 0) {
      EXPECT_EQ(ours.out, theirs.out) << what;
    } else {
      EXPECT_EQ(std::count(ours.err.begin(), ours.err.end(), '\n'), 1) << ours.err;
    }
  }
  // The tree under each host directory: type, mode, owner, size and name.
  static std::string tree(const std::string& dir) {
    auto r =
        e2e::Process({"/bin/sh", "-c",
                      "cd " + dir +
                          " && find . -mindepth 1 | sort | while read f; do "
                          "stat -c '%A %u:%g %s %n' \"$f\" | sed 's/^l[^ ]* [^ ]* [^ ]*/l/'; done"})
            .wait();
    return r.out;
  }
  // A tar's entries: type and mode, owner, size and name (no times).
  static std::string entries(const std::string& tar) {
    auto r = e2e::Process({"/bin/sh", "-c",
                           "tar --numeric-owner -tvf " + tar +
                               " 2>/dev/null | awk '{print $1, $2, $3, $6, $7, $8}' | sort"})
                 .wait();
    return r.out;
  }
};

TEST(DockerFiles, DiffListsWhatTheContainerChangedAsDockerDoes) {
  Files s;
  // docker lists them in its directory walk's order; berth sorts them.
  EXPECT_EQ(bt::sorted_lines(s.ours({"diff", "fc"}).out),
            bt::sorted_lines(s.theirs({"diff", "fc"}).out));
  EXPECT_EQ(s.ours({"diff", "fc"}).out,
            "C /bin\nD /bin/wc\nC /tmp\nA /tmp/t\nA /work\nA /work/a\nA /work/link\n"
            "A /work/sub\nA /work/sub/b\n");
  s.same({"diff", "nope"}, 1);
}

TEST(DockerFiles, CpOutFollowsDockersRulesForTheDestination) {
  Files s;
  s.same({"cp", "fc:/work/a", "DIR/a1"});           // a file to a new name
  s.same({"cp", "fc:/work/a", "DIR"});              // into a directory, its own name
  s.same({"cp", "fc:/work", "DIR/w"});              // a directory to a new name
  s.same({"cp", "fc:/work", "DIR/w"});              // again: into it, as w/work
  s.same({"cp", "fc:/work/sub/.", "DIR/a-dir"});    // what it holds, into a new directory
  s.same({"cp", "fc:/work/a", "DIR/missing/"}, 1);  // a directory that does not exist
  s.same({"cp", "fc:/work", "DIR/a1"}, 1);          // a directory onto a file
  s.same({"cp", "fc:/no/such", "DIR/x"}, 1);
  s.same({"cp", "nope:/work", "DIR/x"}, 1);
  // The symlink is the container's: /work/link/hostname is the container's
  // /etc/hostname... which busybox's image has not.
  s.same({"cp", "fc:/work/link/shadow", "DIR/shadow"}, 1);
  EXPECT_FALSE(fs::exists(s.our_dir + "/shadow"));
  EXPECT_EQ(Files::tree(s.our_dir), Files::tree(s.their_dir));
  EXPECT_NE(Files::tree(s.our_dir).find("./w/work/sub/b"), std::string::npos);
  // "-": a tar of the source, named by its last name.
  auto ours = s.ours({"cp", "fc:/work", "-"}), theirs = s.theirs({"cp", "fc:/work", "-"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  e2e::write_file(s.host.path() + "/ours.tar", ours.out);
  e2e::write_file(s.host.path() + "/theirs.tar", theirs.out);
  EXPECT_EQ(Files::entries(s.host.path() + "/ours.tar"),
            Files::entries(s.host.path() + "/theirs.tar"));
  EXPECT_NE(Files::entries(s.host.path() + "/ours.tar").find("1000/1000 4 work/sub/b"),
            std::string::npos)
      << Files::entries(s.host.path() + "/ours.tar");
}

TEST(DockerFiles, CpInLandsInTheContainerNeverThroughItsSymlinksToTheHost) {
  Files s;
  e2e::write_file(s.host.path() + "/in.txt", "in\n", 0600);
  fs::create_directories(s.host.path() + "/tree/deeper");
  e2e::write_file(s.host.path() + "/tree/deeper/f", "f\n");
  std::string in = s.host.path() + "/in.txt", tree = s.host.path() + "/tree";
  s.same({"cp", in, "fc:/work/in"});
  s.same({"cp", tree, "fc:/work"});
  s.same({"cp", tree + "/.", "fc:/work/sub"});
  // Through the container's /work/link -> /etc: its /etc, not the host's.
  std::string canary = "berth-cp-canary-" + std::to_string(::getpid());
  s.same({"cp", in, "fc:/work/link/" + canary});
  EXPECT_FALSE(fs::exists("/etc/" + canary));
  s.same({"cp", tree, "fc:/work/a"}, 1);  // a directory onto a file
  s.same({"cp", in, "fc:/no/such/dir/"}, 1);
  s.same({"cp", in, "fc:/no/such/x"}, 1);
  // What landed, with docker's owners (root: no -a).
  EXPECT_EQ(bt::sorted_lines(s.ours({"diff", "fc"}).out),
            bt::sorted_lines(s.theirs({"diff", "fc"}).out));
  for (auto side : {&Files::ours_in, &Files::theirs_in}) {
    auto r = (s.*side)({"export", "-o", "DIR/fc.tar", "fc"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto pick = [](const std::string& listing) {
    std::string out;
    std::istringstream in(listing);
    for (std::string l; std::getline(in, l);)
      if (l.find(" work/") != std::string::npos || l.find(" etc/berth-cp") != std::string::npos)
        out += l + "\n";
    return out;
  };
  std::string ours = pick(Files::entries(s.our_dir + "/fc.tar"));
  EXPECT_EQ(ours, pick(Files::entries(s.their_dir + "/fc.tar")));
  EXPECT_NE(ours.find("-rw------- 0/0 3 work/in"), std::string::npos) << ours;
  EXPECT_NE(ours.find("0/0 2 work/tree/deeper/f"), std::string::npos) << ours;
  EXPECT_NE(ours.find("0/0 2 work/sub/deeper/f"), std::string::npos) << ours;
  EXPECT_NE(ours.find("etc/" + canary), std::string::npos) << ours;
}

// `argv` run with `file` as its standard input.
ProcResult with_stdin(const std::string& file, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$@\" < \"$0\"", file});
  return e2e::Process(argv).wait();
}

TEST(DockerFiles, ATarIntoAContainerCannotLeaveItsRoot) {
  bt::Engine e;
  auto made = e.berth({"run", "--name", "fc", "localhost/box", "sh", "-c", "ln -s / /up"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  e2e::TempDir dir;
  std::string canary = "berth-tar-canary-" + std::to_string(::getpid());
  // Entries that climb out, an absolute one, and one through the container's
  // symlink to "/": each refused, or landing inside the container.
  for (const auto& [name, script] : std::vector<std::pair<std::string, std::string>>{
           {"dotdot", "mkdir -p a && echo x > " + canary +
                          " && tar -cf t.tar --transform 's,^,../../../../tmp/,' " + canary},
           {"absolute", "echo x > " + canary + " && tar -cPf t.tar /dev/null " + canary +
                            " --transform 's,^,/tmp/,'"},
           {"through-link", "mkdir -p up/tmp && echo x > up/tmp/" + canary +
                                " && tar -cf t.tar up/tmp/" + canary}}) {
    std::string work = dir.path() + "/" + name;
    fs::create_directories(work);
    auto mk = e2e::Process({"/bin/sh", "-c", "cd " + work + " && " + script}).wait();
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto r = with_stdin(work + "/t.tar", e.command({"cp", "-", "fc:/"}));
    EXPECT_FALSE(fs::exists("/tmp/" + canary)) << name;
    if (r.exit_code != 0) {
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  // The one through /up landed in the container's own /tmp.
  auto listed = e.berth({"cp", "fc:/tmp/" + canary, "-"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  // Not a tar at all: one line, non-zero.
  auto junk = with_stdin("/etc/hostname", e.command({"cp", "-", "fc:/"}));
  EXPECT_NE(junk.exit_code, 0);
  EXPECT_EQ(std::count(junk.err.begin(), junk.err.end(), '\n'), 1) << junk.err;
}

}  // namespace

namespace {

TEST(DockerFiles, CopiesOutLeaveDevicesAndSetuidBehindAndLinksStayLinks) {
  Files s;
  auto more = s.ours({"run", "--name", "fd", "--cap-add", "MKNOD", "IMG", "sh", "-c",
                      "mkdir /w && mknod /w/null c 1 3 && echo x > /w/suid && chmod 4755 /w/suid "
                      "&& ln -s suid /w/link"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  auto out = s.ours_in({"cp", "fd:/w", "DIR/w"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(s.our_dir + "/w/null")));
  EXPECT_EQ(fs::status(s.our_dir + "/w/suid").permissions(), fs::perms(0755));
  // A symlink source is the link, as docker copies it; -L copies what it names.
  for (auto side : {&Files::ours_in, &Files::theirs_in}) {
    auto r = (s.*side)({"cp", "fc:/work/link", "DIR/link"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(fs::read_symlink(s.our_dir + "/link"), "/etc");
  EXPECT_EQ(fs::read_symlink(s.their_dir + "/link"), "/etc");
  auto followed = s.ours_in({"cp", "-L", "fd:/w/link", "DIR/followed"});
  EXPECT_EQ(followed.exit_code, 0) << followed.err;
  EXPECT_EQ(e2e::read_file(s.our_dir + "/followed"), "x\n");
}

TEST(DockerFiles, ATarCopiedInBelongsToRootWithoutArchiveMode) {
  bt::Engine e;
  ASSERT_EQ(e.berth({"create", "--name", "fc", "localhost/box", "true"}).exit_code, 0);
  e2e::TempDir dir;
  e2e::write_file(dir.path() + "/prog", "#!/bin/sh\n", 04755);
  auto tar = e2e::Process({"/bin/sh", "-c",
                           "cd " + dir.path() +
                               " && chmod 4755 prog && tar --owner=1234 "
                               "--group=1234 -cf t.tar prog"})
                 .wait();
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  for (bool archive : {false, true}) {
    std::vector<std::string> argv = e.command({"cp", "-", "fc:/tmp"});
    if (archive) argv.insert(argv.end() - 2, "-a");
    auto r = with_stdin(dir.path() + "/t.tar", argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto listed = e.berth({"cp", "fc:/tmp/prog", "-"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    e2e::write_file(dir.path() + "/out.tar", listed.out);
    auto entry = e2e::Process({"/bin/sh", "-c",
                               "tar --numeric-owner -tvf " + dir.path() +
                                   "/out.tar | awk "
                                   "'{print $1, $2}'"})
                     .wait();
    EXPECT_EQ(entry.out, archive ? "-rwsr-xr-x 1234/1234\n" : "-rwxr-xr-x 0/0\n");
  }
}

TEST(DockerFiles, ARunningContainerSwappingNamesForSymlinksNeverReachesTheHost) {
  bt::Engine e;
  // A host file the container names by its host path, and a container that
  // keeps turning /t/d (where cp makes a directory) into a symlink to it.
  e2e::TempDir host;
  std::string canary = host.path() + "/canary";
  e2e::write_file(canary, "keep\n", 0600);
  auto started = e.berth(
      {"run", "-d", "--name", "racer", "localhost/box", "sh", "-c",
       "mkdir -p /t; while true; do rm -rf /t/d; ln -s " + canary + " /t/d; rm -f /t/d; done"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  fs::create_directories(host.path() + "/d/inner");
  fs::permissions(host.path() + "/d", fs::perms(0777));
  for (int i = 0; i < 150; ++i) (void)e.berth({"cp", host.path() + "/d", "racer:/t"});
  EXPECT_EQ(fs::status(canary).permissions(), fs::perms(0600));
  EXPECT_EQ(e2e::read_file(canary), "keep\n");
  EXPECT_EQ(e.berth({"rm", "-f", "racer"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(DockerFiles, CommitMakesAnImageOfTheChangesAndTheContainersConfig) {
  Files s;  // fc: /work added, /bin/wc deleted, /tmp/t added
  for (auto side : {&Files::ours_in, &Files::theirs_in}) {
    auto r = (s.*side)({"commit", "-m", "a note", "-c", "CMD [\"cat\", \"/work/a\"]", "-c",
                        "ENV B=2", "fc", "localhost/committed:1"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("sha256:", 0), 0u) << r.out;
  }
  s.same({"run", "--rm", "localhost/committed:1"});
  s.same({"run", "--rm", "localhost/committed:1", "sh", "-c",
          "echo $B; cat /tmp/t; ls /bin/wc 2>/dev/null || echo wc gone; ls -ln /work | "
          "cut -c1-10,15-25"});
  s.same({"inspect", "-f", "{{json .Config.Cmd}}", "localhost/committed:1"});
  s.same({"commit", "-c", "RUN true", "fc", "localhost/x"}, 1);
  s.same({"commit", "nope", "localhost/x"}, 1);
  // A running container is frozen while its changes are copied, then runs on.
  for (auto side : {&Files::ours_in, &Files::theirs_in}) {
    auto r = (s.*side)(
        {"run", "-d", "--name", "live", "IMG", "sh", "-c", "echo live > /live; sleep 60"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  for (auto side : {&Files::ours_in, &Files::theirs_in})
    EXPECT_TRUE(e2e::eventually([&] {
      return (s.*side)({"exec", "live", "cat", "/live"}).out == "live\n";
    }));
  for (auto side : {&Files::ours_in, &Files::theirs_in})
    EXPECT_EQ((s.*side)({"commit", "live", "localhost/live"}).exit_code, 0);
  s.same({"run", "--rm", "localhost/live", "cat", "/live"});
  s.same({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "live"});
  s.same({"rm", "-f", "live"});
}

}  // namespace
