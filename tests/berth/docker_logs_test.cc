// Rotated logs (--log-opt max-size/max-file) against docker's json-file
// driver: the same words given to a private dockerd and to berth
// (side_by_side.h), and a follower (`logs -f`) that must see every line
// once, in order, while the log rotates under it.
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

namespace fs = std::filesystem;
using bt::SideBySide;

// 300 numbered lines, about 21 KiB of log: many times 1 KiB.
const std::vector<std::string> kCount = {"sh", "-c",
                                         "i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo $i; done"};

std::vector<std::string> with(std::vector<std::string> words,
                              const std::vector<std::string>& more) {
  words.insert(words.end(), more.begin(), more.end());
  return words;
}

// Whether `out` is "K\nK+1\n...\n300\n" for some K > 1: the newest lines
// kept whole, the oldest rotated away.
bool is_a_rotated_count(const std::string& out) {
  std::istringstream in(out);
  int expect = -1;
  for (std::string line; std::getline(in, line);) {
    int n = std::stoi(line);
    if (expect >= 0 && n != expect) return false;
    expect = n + 1;
  }
  std::string first = out.substr(0, out.find('\n'));
  return expect == 301 && !first.empty() && std::stoi(first) > 1;
}

TEST(DockerLogs, RotatedLogsKeepTheNewestLinesAsDockersDo) {
  SideBySide s;
  s.both_succeed(
      with({"run", "--name", "lg", "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "IMG"},
           kCount));
  s.same({"inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}",
          "lg"});
  auto theirs = s.theirs({"logs", "lg"});
  auto ours = s.ours({"logs", "lg"});
  EXPECT_TRUE(is_a_rotated_count(theirs.out)) << theirs.out;
  EXPECT_TRUE(is_a_rotated_count(ours.out)) << ours.out;
  // Across the rotated files: the same last lines.
  s.same({"logs", "--tail", "3", "lg"});
  s.same({"logs", "--tail", "20", "lg"});
  s.same({"logs", "--details", "--tail", "2", "lg"});  // a space: no attributes
  // On disk: the log and two rotated files, each about 1 KiB (a file is
  // rotated once it holds 1 KiB or more: at most one line over).
  std::string id = bt::first_line(s.ours({"inspect", "-f", "{{.Id}}", "lg"}).out);
  std::string dir = s.berth.store("containers/" + id);
  EXPECT_TRUE(fs::exists(dir + "/log.2"));
  EXPECT_FALSE(fs::exists(dir + "/log.3"));
  for (const char* name : {"/log", "/log.1", "/log.2"})
    EXPECT_LT(fs::file_size(dir + name), 1024u + 200u) << name;
  // Started again, it goes on rotating the same files.
  s.both_succeed({"start", "-a", "lg"});
  EXPECT_FALSE(fs::exists(dir + "/log.3"));
  EXPECT_TRUE(is_a_rotated_count(s.ours({"logs", "lg"}).out));

  // max-file 1: the log alone, started anew when full.
  s.both_succeed(
      with({"run", "--name", "one", "--log-opt", "max-size=1k", "--log-opt", "max-file=1", "IMG"},
           kCount));
  EXPECT_TRUE(is_a_rotated_count(s.ours({"logs", "one"}).out));
  EXPECT_TRUE(is_a_rotated_count(s.theirs({"logs", "one"}).out));
  std::string one = s.berth.store("containers/" +
                                  bt::first_line(s.ours({"inspect", "-f", "{{.Id}}", "one"}).out));
  EXPECT_FALSE(fs::exists(one + "/log.1"));
}

TEST(DockerLogs, BadLogOptionsAreRefused) {
  SideBySide s;
  for (const auto& opts : std::vector<std::vector<std::string>>{{"max-size=abc"},
                                                                {"max-size=0"},
                                                                {"max-size=-1"},
                                                                {"max-size=1k", "max-file=0"},
                                                                {"max-size=1k", "max-file=x"},
                                                                {"compress=true"},
                                                                {"nosuch=1"}}) {
    std::vector<std::string> words = {"run", "--rm"};
    for (const auto& o : opts) words.insert(words.end(), {"--log-opt", o});
    words.insert(words.end(), {"IMG", "true"});
    s.refused(words, 125, "--log-opt");
  }
}

TEST(DockerLogs, AFollowerSeesEveryLineOnceWhileTheLogRotates) {
  bt::Engine berth;
  // 20 bursts of 10 lines (about 700 bytes a burst, so the log rotates
  // at most once in a burst and the file being followed is still kept);
  // before each burst the container waits for the follower to have
  // printed the one before.
  const std::string script =
      "for b in $(seq 1 20); do for i in $(seq 1 10); do echo $b-$i; done; "
      "while [ ! -e /tmp/go$b ]; do sleep 0.02; done; done";
  auto run =
      berth.berth({"run", "-d", "--network", "none", "--name", "fl", "--log-opt", "max-size=1k",
                   "--log-opt", "max-file=3", "localhost/box", "sh", "-c", script});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  e2e::Process follower(berth.command({"logs", "-f", "fl"}));
  std::string expected;
  for (int b = 1; b <= 20; ++b) {
    for (int i = 1; i <= 10; ++i) expected += std::to_string(b) + "-" + std::to_string(i) + "\n";
    std::string last = std::to_string(b) + "-10\n";
    ASSERT_TRUE(e2e::eventually([&] { return follower.out().find(last) != std::string::npos; }))
        << "burst " << b << ": " << follower.out();
    auto go = berth.berth({"exec", "fl", "touch", "/tmp/go" + std::to_string(b)});
    ASSERT_EQ(go.exit_code, 0) << go.err;
  }
  auto done = follower.wait(std::chrono::seconds(60));
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, expected);
  // It did rotate: 20 bursts are far more than three files of 1 KiB.
  std::string id = bt::first_line(berth.berth({"inspect", "-f", "{{.Id}}", "fl"}).out);
  EXPECT_TRUE(fs::exists(berth.store("containers/" + id + "/log.2")));
  EXPECT_NE(berth.berth({"logs", "fl"}).out.substr(0, 4), "1-1\n");
}

}  // namespace
