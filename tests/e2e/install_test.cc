// What the build installs for ferry's users, checked against the program
// itself: `cmake --install` puts the program, its man page and its bash
// completion in place; the man page renders without a warning; and every
// option that `--help` lists is in both the man page and the completion.
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "tests/e2e/harness.h"

namespace e2e {
namespace {

std::string build_dir() {
  std::string bin = ferry_bin();  // BUILD/bin/ferry
  return bin.substr(0, bin.rfind("/bin/"));
}

// The long options a subcommand's --help lists.
std::set<std::string> long_options(const std::string& sub) {
  auto r = ferry({sub, "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  // Only the options a line of the listing starts with, not ones its text mentions.
  std::regex opt("^ +(?:-[a-zA-Z],)?(--[a-z][a-z-]*)");
  std::istringstream lines(r.out);
  std::smatch m;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, m, opt)) out.insert(m[1].str());
  out.erase("--help");
  EXPECT_FALSE(out.empty()) << r.out;
  return out;
}

class Install : public testing::Test {
 protected:
  void SetUp() override {
    auto r = Process({"/usr/bin/cmake", "--install", build_dir(), "--component", "ferry",
                      "--prefix", t.path()})
                 .wait();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  TempDir t;
};

TEST_F(Install, PutsTheProgramItsManPageAndItsCompletionInPlace) {
  EXPECT_TRUE(exists(t / "bin/ferry"));
  EXPECT_TRUE(exists(t / "share/man/man1/ferry.1"));
  EXPECT_TRUE(exists(t / "share/bash-completion/completions/ferry"));
  auto v = Process({t / "bin/ferry", "--version"}).wait();
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(read_file(t / "share/man/man1/ferry.1").find(v.out.substr(0, v.out.find(' ', 6))),
            std::string::npos)
      << "the man page names the release: " << v.out;
}

TEST_F(Install, TheManPageRendersCleanlyAndDescribesEveryOption) {
  // -ww: every warning; -P-bou: plain text (no overstrikes for bold); a wide
  // line so no option is broken at its hyphen.
  auto r = Process({"/usr/bin/groff", "-man", "-Tascii", "-P-bou", "-ww", "-rLL=300n",
                    t / "share/man/man1/ferry.1"})
               .wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "groff warnings";
  for (const char* sub : {"cp", "serve", "report"})
    for (const auto& opt : long_options(sub))
      EXPECT_NE(r.out.find(opt), std::string::npos) << "ferry " << sub << " " << opt;
}

TEST_F(Install, TheCompletionOffersSubcommandsAndEveryOption) {
  std::string file = t / "share/bash-completion/completions/ferry";
  auto complete = [&](const std::string& words, int cword) {
    auto r = Process({"/bin/bash", "-c",
                      fmt::format("source {}; COMP_WORDS=({}); COMP_CWORD={}; _ferry; "
                                  "printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                                  file, words, cword)})
                 .wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("ferry c", 1), "cp\n");
  for (const char* sub : {"cp", "serve", "report"}) {
    std::string offered = complete(fmt::format("ferry {} --", sub), 2);
    for (const auto& opt : long_options(sub))
      EXPECT_NE(offered.find(opt + "\n"), std::string::npos) << "ferry " << sub << " " << opt;
  }
}

}  // namespace
}  // namespace e2e
