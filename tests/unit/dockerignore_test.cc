// .dockerignore matching by docker's rules (berth/build/dockerignore.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "berth/build/dockerignore.h"

namespace {

using berth::build::Dockerignore;

struct Case {
  const char* patterns;
  std::vector<std::string> excluded;
  std::vector<std::string> kept;
};

TEST(Dockerignore, MatchesAsDockerDoes) {
  const std::vector<Case> cases = {
      // The reference's examples.
      {"# comment\n*/temp*",
       {"somedir/temporary.txt", "somedir/temp", "a/temp/x"},
       {"temp", "a/b/temp", "# comment"}},
      {"*/*/temp*", {"somedir/subdir/temporary.txt"}, {"somedir/temporary.txt"}},
      {"temp?", {"tempa", "tempb", "tempa/x"}, {"temp", "tempab", "x/tempa"}},
      {"**/*.go", {"a.go", "x/y/a.go"}, {"a.gox", "go"}},
      {"*.md\n!README.md", {"x.md"}, {"README.md", "docs/x.md"}},
      {"*.md\n!README*.md\nREADME-secret.md", {"README-secret.md", "x.md"}, {"README-x.md"}},
      {"*.md\nREADME-secret.md\n!README*.md", {"x.md"}, {"README-secret.md", "README.md"}},
      // A directory's pattern covers everything beneath it.
      {"node_modules", {"node_modules", "node_modules/a/b.js"}, {"src/node_modules", "node"}},
      // Leading / and ./, trailing /, doubled slashes and .. are cleaned away.
      {"/foo/bar", {"foo/bar", "foo/bar/x"}, {"x/foo/bar", "foo"}},
      {"./foo//bar/", {"foo/bar", "foo/bar/x"}, {"foo"}},
      {"a/../b", {"b", "b/c"}, {"a/b", "a"}},
      {"../x", {}, {"x", "a/x"}},
      // ** in its forms.
      {"a/**/b", {"a/b", "a/x/b", "a/x/y/b", "a/b/c"}, {"a/xb", "b", "x/a/b"}},
      {"a/**", {"a/x", "a/x/y"}, {"a", "ab"}},
      {"**", {"a", "a/b", ".git"}, {}},
      {"**/", {"a", "a/b"}, {}},
      {"**.go", {"x.go", "a/b.go", "ab.go", "a.go/x"}, {"go.x"}},
      {"a**b", {"ab", "ax/b", "ax/y/b"}, {"axb"}},
      {"**/x*", {"x", "a/xy", "a/b/x"}, {"ax", "a/bx"}},
      // Character classes and escapes, as Go's filepath.Match.
      {"[a-c]x", {"bx", "ax"}, {"dx", "x"}},
      {"[^a]x", {"bx"}, {"ax"}},
      {"a[^b]c", {"a/c", "axc"}, {"abc"}},  // a class may match '/'
      {"[!a]x", {"!x", "ax"}, {"bx"}},
      {"[\\]]", {"]"}, {"\\"}},
      {"\\*", {"*"}, {"a"}},
      {"a?c", {"abc", "a.c"}, {"a/c", "ac"}},
      {"caf?", {"caf\xC3\xA9", "cafe"}, {"caf"}},
      {"a.b", {"a.b"}, {"axb"}},
      {"a+(b)|{c}$", {"a+(b)|{c}$"}, {"aab"}},
      // Exceptions: the last matching line wins, parents included.
      {"*\n!keep", {"other", "other/x"}, {"keep", "keep/x"}},
      {"docs\n!docs/README.md", {"docs", "docs/other"}, {"docs/README.md"}},
      {"!docs/README.md\ndocs", {"docs/README.md"}, {}},
      {"a/b\n!a\na/b", {"a/b", "a/b/c"}, {"a", "a/c"}},
      // Comments only in the first column; blanks trimmed; "! x" is "!x".
      {"#x\n  #y\n  foo  \n\t\n*\n! bar", {"#y", "foo"}, {"bar"}},
      // BOM and CRLF.
      {"\xEF\xBB\xBF"
       "foo\r\nbar\r\n",
       {"foo", "bar"},
       {"foobar"}},
  };
  for (const Case& c : cases) {
    auto d = Dockerignore::parse(c.patterns);
    ASSERT_TRUE(d) << c.patterns << ": " << d.error().message();
    for (const std::string& p : c.excluded) EXPECT_TRUE(d->excluded(p)) << c.patterns << " / " << p;
    for (const std::string& p : c.kept) EXPECT_FALSE(d->excluded(p)) << c.patterns << " / " << p;
  }
}

TEST(Dockerignore, QueriedPathsAreCleanedAndTheRootIsNeverExcluded) {
  auto d = Dockerignore::parse("foo\n**");
  ASSERT_TRUE(d);
  for (const char* p : {"foo", "./foo", "/foo", "foo/", "x/../foo", "foo//bar"})
    EXPECT_TRUE(d->excluded(p)) << p;
  for (const char* p : {"", ".", "/", "./", "a/.."}) EXPECT_FALSE(d->excluded(p)) << p;
}

TEST(Dockerignore, PatternsAreCleaned) {
  auto d = Dockerignore::parse("/a/\n! ./b//c\n\n# no\n  d/../e  \n/\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->patterns(), (std::vector<std::string>{"a", "!b/c", "e", "/"}));
}

TEST(Dockerignore, BadPatternsNameTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[", ".dockerignore:1: bad pattern '[': unclosed character class"},
      {"ok\n\n a[b ", ".dockerignore:3: bad pattern 'a[b': unclosed character class"},
      {"[]", ".dockerignore:1: bad pattern '[]': '-' or ']' misplaced in a character class"},
      {"[^]", ".dockerignore:1: bad pattern '[^]': '-' or ']' misplaced in a character class"},
      {"[-a]", ".dockerignore:1: bad pattern '[-a]': '-' or ']' misplaced in a character class"},
      {"[a-]", ".dockerignore:1: bad pattern '[a-]': '-' or ']' misplaced in a character class"},
      {"[z-a]", ".dockerignore:1: bad pattern '[z-a]': a character class range runs backwards"},
      {"[a\\", ".dockerignore:1: bad pattern '[a\\': unclosed character class"},
      {"[\xff]", ".dockerignore:1: bad pattern '[\xff]': invalid UTF-8 in a character class"},
      {"a\\", ".dockerignore:1: bad pattern 'a\\': a lone '\\' at the end"},
      {"!", ".dockerignore:1: '!' needs a pattern after it"},
      {"x\n  !  \n", ".dockerignore:2: '!' needs a pattern after it"},
      {"!\x1b[", ".dockerignore:1: bad pattern '\\x1b[': unclosed character class"},
  };
  for (const auto& [text, want] : cases) {
    auto d = Dockerignore::parse(text);
    EXPECT_EQ(d ? "parsed" : d.error().message(), want) << text;
  }
}

TEST(Dockerignore, Caps) {
  std::string big(berth::build::kMaxDockerignoreBytes + 1, 'a');
  EXPECT_EQ(Dockerignore::parse(big).error().message(),
            ".dockerignore: 1048577 bytes, more than the 1024 KiB allowed");
  std::string long_line = "a\n" + std::string(64 * 1024, 'b');
  EXPECT_EQ(Dockerignore::parse(long_line).error().message(),
            ".dockerignore:2: line longer than 64 KiB");
  EXPECT_TRUE(Dockerignore::parse(std::string(64 * 1024 - 1, 'b')));
  // NUL bytes are just characters: they only ever match themselves.
  auto d = Dockerignore::parse(std::string("a\0b\n", 4));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->excluded(std::string("a\0b", 3)));
  EXPECT_FALSE(d->excluded("a"));
}

TEST(Dockerignore, LongPatternsAndPathsCostLinearTime) {
  // Many ** states alive at once over a path near PATH_MAX: work is the
  // product of the lengths, with no backtracking.
  std::string pattern;
  for (int i = 0; i < 3000; ++i) pattern += "**/";
  pattern += "x";
  std::string path;
  for (int i = 0; i < 2000; ++i) path += "d/";
  auto d = Dockerignore::parse(pattern + "\n!" + pattern + "/keep");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->excluded(path + "x"));
  EXPECT_TRUE(d->excluded(path + "x/y"));
  EXPECT_FALSE(d->excluded(path + "x/keep"));
  EXPECT_FALSE(d->excluded(path + "y"));
  EXPECT_FALSE(d->can_skip_dir(path + "x"));
}

TEST(Dockerignore, CanSkipDir) {
  const std::vector<std::tuple<const char*, const char*, bool>> cases = {
      {"docs", "docs", true},
      {"docs", "other", false},  // not excluded at all
      {"docs\n!docs/README.md", "docs", false},
      {"!docs/README.md\ndocs", "docs", true},  // the earlier exception is overruled
      {"docs\n!*/README.md", "docs", false},
      {"docs\n!**/*.md", "docs", false},
      {"docs\n!other/x", "docs", true},
      {"docs\n!x*", "docs", true},  // * never crosses a '/'
      {"docs\n!docs", "docs", false},
      {"docs\n!docs/a/b", "docs", false},
      {"docs\n!docs/a/b", "docs/a", false},
      {"docs\n!docs/a/b", "docs/c", true},
      {"docs/**", "docs", false},  // "docs" itself is kept; only its contents go
      {"docs/**", "docs/sub", true},
      {"*\n![a-c]*/keep", "bin", false},
      {"*\n![a-c]*/keep", "dist", true},
      {"**", ".git", true},
  };
  for (const auto& [patterns, dir, want] : cases) {
    auto d = Dockerignore::parse(patterns);
    ASSERT_TRUE(d) << patterns;
    EXPECT_EQ(d->can_skip_dir(dir), want) << patterns << " / " << dir;
  }
}

// Whatever the patterns, a directory the walker may skip holds no path that
// excluded() keeps: checked over a grid of patterns and paths.
TEST(Dockerignore, SkippedDirectoriesHoldNothingKept) {
  const std::vector<std::string> patterns = {"a",  "!a",    "a/b",  "!a/b",   "a/*",  "!a/*/c",
                                             "*",  "!*",    "**/c", "!**/c",  "a/**", "![ab]/c",
                                             "b?", "!b?/c", "a**c", "!a/b/c", "!c",   "a/b/c/**"};
  const std::vector<std::string> dirs = {"a", "b", "a/b", "a/b/c", "ab", "bc", "c"};
  const std::vector<std::string> tails = {"c", "b", "b/c", "c/d", "x/c", "bc/c", "b/c/d"};
  int skipped = 0;
  // Every ordered choice of up to three patterns.
  for (size_t i = 0; i < patterns.size(); ++i)
    for (size_t j = 0; j <= patterns.size(); ++j)
      for (size_t k = 0; k <= patterns.size(); ++k) {
        std::string text = patterns[i];
        if (j < patterns.size()) text += "\n" + patterns[j];
        if (k < patterns.size()) text += "\n" + patterns[k];
        auto d = Dockerignore::parse(text);
        ASSERT_TRUE(d) << text;
        for (const std::string& dir : dirs) {
          if (!d->can_skip_dir(dir)) continue;
          ++skipped;
          for (const std::string& tail : tails)
            ASSERT_TRUE(d->excluded(dir + "/" + tail)) << text << " / " << dir << "/" << tail;
        }
      }
  EXPECT_GT(skipped, 1000);  // the check did look at many skips
}

}  // namespace
