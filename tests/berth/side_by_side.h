// berth and a private dockerd (Debian's docker.io with runc,
// tests/oci/docker_harness.h) given the same words: `ours(words)` and
// `theirs(words)` run them, "IMG" in the words standing for each one's
// busybox image (localhost/box and dockertest::kImage); same(), both_succeed()
// and refused() compare what they do.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/berth_harness.h"
#include "tests/oci/docker_harness.h"

namespace bt {

struct SideBySide {
  Engine berth;
  dockertest::Dockerd docker;
  SideBySide() {
    EXPECT_TRUE(docker.ready()) << docker.log();
    auto imported = docker.import_image();
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
  }
  static std::vector<std::string> with_image(std::vector<std::string> words, const char* image) {
    std::replace(words.begin(), words.end(), std::string("IMG"), std::string(image));
    return words;
  }
  e2e::ProcResult ours(const std::vector<std::string>& words) {
    return berth.berth(with_image(words, "localhost/box"));
  }
  e2e::ProcResult theirs(const std::vector<std::string>& words) {
    return docker.docker(with_image(words, dockertest::kImage));
  }
  // Both run `words`; both must end with `exit`, and print the same.
  void same(const std::vector<std::string>& words, int exit = 0) {
    std::string what = ::testing::PrintToString(words);
    auto t = theirs(words);
    auto o = ours(words);
    EXPECT_EQ(t.exit_code, exit) << what << t.err;
    EXPECT_EQ(o.exit_code, exit) << what << o.err;
    EXPECT_EQ(o.out, t.out) << what;
  }
  // Both run `words` and succeed (their output, ids, differ).
  void both_succeed(const std::vector<std::string>& words) {
    std::string what = ::testing::PrintToString(words);
    auto t = theirs(words);
    auto o = ours(words);
    EXPECT_EQ(t.exit_code, 0) << what << t.err;
    EXPECT_EQ(o.exit_code, 0) << what << o.out << o.err;
  }
  // Both refuse `words` with `exit`; our error is one line holding `words_of_ours`.
  void refused(const std::vector<std::string>& words, int exit, const std::string& words_of_ours) {
    std::string what = ::testing::PrintToString(words);
    auto t = theirs(words);
    auto o = ours(words);
    EXPECT_EQ(t.exit_code, exit) << what << t.err;
    EXPECT_EQ(o.exit_code, exit) << what << o.err;
    EXPECT_NE(o.err.find(words_of_ours), std::string::npos) << what << o.err;
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << what << ": one line: " << o.err;
  }
};

inline std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// The non-empty lines not starting with '#', sorted.
inline std::string sorted_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#') lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace bt
