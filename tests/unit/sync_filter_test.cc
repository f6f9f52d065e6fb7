// ferry sync's filter engine: rsync's include/exclude/filter rules.
// FilterPattern/FilterRules/FilterWalk tests check each rule in isolation;
// FilterVsRsync runs the real rsync (-a -n) over generated trees and checks
// that the sender's walk and the receiver's deletions come out the same.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/sys.h"
#include "base/unique_fd.h"
#include "ferry/sync/filter_pattern.h"
#include "ferry/sync/filter_rules.h"
#include "ferry/sync/filter_walk.h"
#include "tests/support/test_support.h"

namespace {

using ferry::sync::FilterPattern;
using ferry::sync::FilterRules;
using ferry::sync::FilterSide;
using ferry::sync::FilterWalk;
using Names = std::set<std::string>;

bool match(std::string_view pattern, std::string_view path, bool is_dir = false) {
  auto p = FilterPattern::compile(pattern);
  EXPECT_TRUE(p) << pattern;
  return p && p->matches(path, is_dir);
}

// ---------------------------------------------------------------- patterns

TEST(FilterPattern, PlainNameMatchesLastComponentOnly) {
  EXPECT_TRUE(match("foo", "foo"));
  EXPECT_TRUE(match("foo", "a/b/foo"));
  EXPECT_FALSE(match("foo", "a/foo/b"));
  EXPECT_FALSE(match("foo", "xfoo"));
  EXPECT_FALSE(match("foo", "foox"));
  EXPECT_TRUE(match("foo", "foo", true));
}

TEST(FilterPattern, StarStaysInsideOneComponent) {
  EXPECT_TRUE(match("*.o", "a.o"));
  EXPECT_TRUE(match("*.o", "d/e/a.o"));
  EXPECT_TRUE(match("*.o", ".o"));
  EXPECT_FALSE(match("*.o", "a.c"));
  EXPECT_TRUE(match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(match("a*b*c", "axxbyy"));
  // With a slash the pattern sees the path, and '*' cannot cross a '/'.
  EXPECT_TRUE(match("sub/*", "sub/x"));
  EXPECT_FALSE(match("sub/*", "sub/x/y"));
  EXPECT_TRUE(match("sub/*", "top/sub/x"));
}

TEST(FilterPattern, QuestionMarkIsOneNonSlashCharacter) {
  EXPECT_TRUE(match("?.c", "a.c"));
  EXPECT_FALSE(match("?.c", "ab.c"));
  EXPECT_FALSE(match("?.c", ".c"));
  EXPECT_FALSE(match("a?b", "a/b"));
}

TEST(FilterPattern, DoubleStarCrossesSlashes) {
  EXPECT_TRUE(match("a/**/b", "a/x/b"));
  EXPECT_TRUE(match("a/**/b", "a/x/y/z/b"));
  EXPECT_FALSE(match("a/**/b", "a/b"));  // the two slashes need something between
  EXPECT_TRUE(match("a/**", "a/x/y"));
  EXPECT_TRUE(match("a/**", "top/a/x"));  // unanchored: at any component boundary
  EXPECT_FALSE(match("a/**", "xa/y"));
  EXPECT_TRUE(match("**/deep", "deep"));  // a leading "**/" also matches at the top
  EXPECT_TRUE(match("**/deep", "a/b/deep"));
  EXPECT_FALSE(match("**/deep", "a/bdeep"));
  EXPECT_TRUE(match("**.o", "a/b.o"));
  EXPECT_TRUE(match("a***b", "a/x/b"));  // three stars are two
}

TEST(FilterPattern, TripleStarSuffixMatchesTheDirectoryAndItsContents) {
  EXPECT_TRUE(match("dir/***", "dir", true));
  EXPECT_FALSE(match("dir/***", "dir", false));  // a file named dir is not the directory
  EXPECT_TRUE(match("dir/***", "dir/x"));
  EXPECT_TRUE(match("dir/***", "dir/x/y", true));
  EXPECT_TRUE(match("dir/***", "top/dir/x"));
  EXPECT_FALSE(match("dir/***", "dirx", true));
  EXPECT_TRUE(match("/dir/***", "dir", true));
  EXPECT_FALSE(match("/dir/***", "top/dir", true));
}

TEST(FilterPattern, CharacterClasses) {
  EXPECT_TRUE(match("[abc].c", "b.c"));
  EXPECT_FALSE(match("[abc].c", "d.c"));
  EXPECT_TRUE(match("[a-c]x", "bx"));
  EXPECT_FALSE(match("[a-c]x", "dx"));
  EXPECT_TRUE(match("[!a-c]x", "dx"));
  EXPECT_FALSE(match("[!a-c]x", "ax"));
  EXPECT_TRUE(match("[^a-c]x", "dx"));
  EXPECT_TRUE(match("[]]", "]"));  // ']' first is a member
  EXPECT_TRUE(match("[!]]", "a"));
  EXPECT_FALSE(match("[!]]", "]"));
  EXPECT_TRUE(match("[a-]", "-"));   // '-' last is a member
  EXPECT_TRUE(match("[\\]]", "]"));  // escaped in a class
  EXPECT_TRUE(match("[[:digit:]]x", "7x"));
  EXPECT_FALSE(match("[[:digit:]]x", "ax"));
  EXPECT_TRUE(match("[[:upper:][:digit:]]", "Q"));
  EXPECT_TRUE(match("[[:a]", ":"));         // no ":]": a plain '['
  EXPECT_FALSE(match("[[:bogus:]]", "b"));  // an unknown class matches nothing
  EXPECT_FALSE(match("a[!x]b", "a/b"));     // never '/'
  EXPECT_FALSE(match("*[/]*", "a/b"));
}

TEST(FilterPattern, BackslashEscapesOnlyInWildPatterns) {
  EXPECT_TRUE(match("star\\*", "star*"));
  EXPECT_FALSE(match("star\\*", "starx"));
  EXPECT_TRUE(match("q\\?*", "q?.txt"));
  EXPECT_FALSE(match("q\\?*", "qa.txt"));
  // No wildcard: a plain string, backslash included.
  EXPECT_TRUE(match("foo\\bar", "foo\\bar"));
  EXPECT_FALSE(match("foo\\bar", "foobar"));
  // With a wildcard "\b" is just "b".
  EXPECT_TRUE(match("foo\\bar*", "foobar"));
  EXPECT_FALSE(match("foo*\\", "foo\\"));  // a trailing backslash matches nothing
}

TEST(FilterPattern, LeadingSlashAnchorsAtTheRoot) {
  EXPECT_TRUE(match("/foo", "foo"));
  EXPECT_FALSE(match("/foo", "a/foo"));
  EXPECT_TRUE(match("/a/foo", "a/foo"));
  EXPECT_FALSE(match("/a/foo", "x/a/foo"));
  EXPECT_TRUE(match("/a/*.c", "a/x.c"));
  EXPECT_FALSE(match("/a/*.c", "b/a/x.c"));
  EXPECT_TRUE(match("/*.c", "x.c"));
  EXPECT_FALSE(match("/*.c", "d/x.c"));
}

TEST(FilterPattern, AnchorDirOfAMergeFile) {
  auto p = FilterPattern::compile("/foo", "a/b");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->matches("a/b/foo", false));
  EXPECT_FALSE(p->matches("foo", false));
  EXPECT_FALSE(p->matches("a/b/c/foo", false));
  // The directory's name is literal, wildcards and all.
  auto q = FilterPattern::compile("/f*", "d[1]");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->matches("d[1]/foo", false));
  EXPECT_FALSE(q->matches("d1/foo", false));
  // Unanchored patterns are not affected.
  auto u = FilterPattern::compile("foo", "a/b");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->matches("a/b/c/foo", false));
}

TEST(FilterPattern, UnanchoredSlashMatchesAtComponentBoundaries) {
  EXPECT_TRUE(match("foo/bar", "foo/bar"));
  EXPECT_TRUE(match("foo/bar", "x/foo/bar"));
  EXPECT_FALSE(match("foo/bar", "xfoo/bar"));
  EXPECT_FALSE(match("foo/bar", "foo/bar/baz"));
  EXPECT_TRUE(match("foo/*/bar", "x/foo/y/bar"));
  EXPECT_FALSE(match("foo/*/bar", "foo/bar"));
  EXPECT_TRUE(match("f*/bar", "x/foo/bar"));
  EXPECT_FALSE(match("f*/bar", "x/yfoo/bar"));
}

TEST(FilterPattern, TrailingSlashMatchesDirectoriesOnly) {
  EXPECT_TRUE(match("foo/", "foo", true));
  EXPECT_FALSE(match("foo/", "foo", false));
  EXPECT_TRUE(match("foo/", "a/foo", true));
  EXPECT_TRUE(match("*/", "anything", true));
  EXPECT_FALSE(match("*/", "anything", false));
  auto p = FilterPattern::compile("foo/");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->dir_only());
  EXPECT_EQ(p->text(), "foo/");
}

TEST(FilterPattern, HostileInputs) {
  EXPECT_FALSE(FilterPattern::compile(""));
  EXPECT_FALSE(FilterPattern::compile(std::string_view("a\0b", 3)));
  EXPECT_FALSE(match("a[bc", "ab"));  // an unterminated class matches nothing
  EXPECT_FALSE(match("[", "["));
  EXPECT_FALSE(match("*[", "x["));
  EXPECT_FALSE(match("/", "x"));

  const auto started = std::chrono::steady_clock::now();
  const std::string stars(4096, '*');
  std::string long_name(4000, 'a');
  EXPECT_TRUE(match(stars, long_name));
  std::string star_a;  // "*a*a*a...*b": the classic backtracking trap
  for (int i = 0; i < 1000; ++i) star_a += "*a";
  star_a += "*b";
  EXPECT_FALSE(match(star_a, long_name));
  std::string deep_path;  // a/a/a/.../a, 2000 components
  for (int i = 0; i < 2000; ++i) deep_path += i == 0 ? "a" : "/a";
  std::string starstar;
  while (starstar.size() < 4090) starstar += "**/";
  EXPECT_FALSE(match(starstar + "b", deep_path));
  EXPECT_TRUE(match(starstar + "a", deep_path));
  std::string qs;
  for (int i = 0; i < 1365; ++i) qs += "?*/";
  EXPECT_FALSE(match(qs + "b", deep_path));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds(5));
}

// ---------------------------------------------------------------- rules

std::vector<std::string> wire_of(const std::vector<std::string>& filters) {
  FilterRules rules;
  for (const auto& f : filters) {
    auto st = rules.add_filter(f);
    EXPECT_TRUE(st) << f << ": " << st.error().message();
  }
  return rules.wire_rules();
}

std::string error_of(std::string_view rule) {
  FilterRules rules;
  auto st = rules.add_filter(rule);
  return st ? std::string("(accepted)") : st.error().message();
}

TEST(FilterRules, EveryRuleForm) {
  EXPECT_EQ(wire_of({"- a", "+ b", "exclude c", "include d", "-_e", "+_f"}),
            (std::vector<std::string>{"- a", "+ b", "- c", "+ d", "- e", "+ f"}));
  EXPECT_EQ(
      wire_of({"H a", "hide b", "S c", "show d", "P e", "protect f", "R g", "risk h"}),
      (std::vector<std::string>{"-s a", "-s b", "+s c", "+s d", "-r e", "-r f", "+r g", "+r h"}));
  EXPECT_EQ(wire_of({"-! */", "+s a", "-r b", "-,!s c", "exclude,! d", "-sr e", "H! f"}),
            (std::vector<std::string>{"-! */", "+s a", "-r b", "-!s c", "-! d", "-sr e", "-!s f"}));
  EXPECT_EQ(wire_of({": .f", "dir-merge .g", ":n- .h", "dir-merge,nw .i", ":+s .j",
                     ": /.rsync-filter", "dir-merge_.k"}),
            (std::vector<std::string>{": .f", ": .g", ":n- .h", ":nw .i", ":+s .j",
                                      ": .rsync-filter", ": .k"}));
  // 'e' adds an exclude of the file's own name before the merge rule.
  EXPECT_EQ(wire_of({":e .rules"}), (std::vector<std::string>{"- .rules", ": .rules"}));
  // A pattern keeps its spaces and underscores.
  EXPECT_EQ(wire_of({"-  two spaces", "-__x"}),
            (std::vector<std::string>{"-  two spaces", "- _x"}));
}

TEST(FilterRules, ClearDropsEarlierRules) {
  EXPECT_EQ(wire_of({"- a", "+ b", "!", "- c"}), (std::vector<std::string>{"- c"}));
  EXPECT_EQ(wire_of({"- a", "clear"}), (std::vector<std::string>{}));
  FilterRules rules;
  ASSERT_TRUE(rules.add_exclude("*.o"));
  ASSERT_TRUE(rules.add_exclude("!"));  // old-style clear
  EXPECT_TRUE(rules.empty());
}

TEST(FilterRules, OldStyleIncludeExclude) {
  FilterRules rules;
  ASSERT_TRUE(rules.add_exclude("*.o"));
  ASSERT_TRUE(rules.add_include("*.c"));
  ASSERT_TRUE(rules.add_exclude("+ keep"));  // rsync's old-style prefixes
  ASSERT_TRUE(rules.add_include("- drop"));
  ASSERT_TRUE(rules.add_exclude("-x"));    // no space: a plain pattern
  ASSERT_TRUE(rules.add_exclude(": .f"));  // no rule syntax here
  EXPECT_EQ(rules.wire_rules(),
            (std::vector<std::string>{"- *.o", "+ *.c", "+ keep", "- drop", "- -x", "- : .f"}));
  EXPECT_FALSE(rules.add_exclude(""));
}

TEST(FilterRules, FromFiles) {
  e2e::TempDir dir;
  e2e::write_file(dir / "ex", "# comment\n; comment\n\n*.o\r\n+ *.c\n  lead\ntrail \n");
  FilterRules rules;
  ASSERT_TRUE(rules.add_exclude_from(dir / "ex"));
  EXPECT_EQ(rules.wire_rules(),
            (std::vector<std::string>{"- *.o", "+ *.c", "-   lead", "- trail "}));
  FilterRules inc;
  e2e::write_file(dir / "in", "a\nb/\n");
  ASSERT_TRUE(inc.add_include_from(dir / "in"));
  EXPECT_EQ(inc.wire_rules(), (std::vector<std::string>{"+ a", "+ b/"}));
  auto missing = inc.add_exclude_from(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
  EXPECT_FALSE(inc.add_exclude_from("-"));
}

TEST(FilterRules, MergeFilesAreReadAtOnce) {
  e2e::TempDir dir;
  e2e::write_file(dir / "inner", "- inner*\n");
  e2e::write_file(dir / "rules", "# comment\n- *.o\n. " + (dir / "inner") + "\n: .pd\n+ *.c\n");
  e2e::write_file(dir / "words", "a b\tc\n#d\n");
  e2e::write_file(dir / "self", ". " + (dir / "self") + "\n");
  e2e::write_file(dir / "sided", "foo\nbar\n");
  EXPECT_EQ(wire_of({". " + (dir / "rules")}),
            (std::vector<std::string>{"- *.o", "- inner*", ": .pd", "+ *.c"}));
  EXPECT_EQ(wire_of({"merge,w- " + (dir / "words")}),
            (std::vector<std::string>{"- a", "- b", "- c", "- #d"}));
  EXPECT_EQ(wire_of({".e+s " + (dir / "sided")}),
            (std::vector<std::string>{"- sided", "+s foo", "+s bar"}));
  EXPECT_EQ(wire_of({"- x", ". " + (dir / "rules"), "!"}), (std::vector<std::string>{}));
  const std::string loop = error_of(". " + (dir / "self"));
  EXPECT_NE(loop.find("nested more than 8"), std::string::npos) << loop;
  const std::string missing = error_of(". " + (dir / "nope"));
  EXPECT_NE(missing.find(dir / "nope"), std::string::npos) << missing;
  e2e::write_file(dir / "bad", "- ok\nbogus line\n");
  const std::string bad = error_of(". " + (dir / "bad"));
  EXPECT_NE(bad.find("bad line 2"), std::string::npos) << bad;
  EXPECT_NE(bad.find("unknown rule"), std::string::npos) << bad;
}

TEST(FilterRules, ErrorsNameTheRuleAndTheReason) {
  struct Bad {
    std::string rule;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {"x foo", "unknown rule"},
      {"", "empty rule"},
      {"-q foo", "unknown modifier 'q'"},
      {"-/ foo", "modifier '/' (absolute-path matching) is not supported"},
      {"-p foo", "modifier 'p' (perishable rules) is not supported"},
      {"-x foo", "modifier 'x' (xattr-name rules) is not supported"},
      {":C", "modifier 'C' (CVS mode) is not supported"},
      {"-C", "modifier 'C' (CVS mode) is not supported"},
      {"-foo", "unknown modifier 'f'"},
      {"- ", "missing pattern"},
      {"-", "missing pattern"},
      {"!x", "'!' (clear) takes nothing"},
      {"! foo", "'!' (clear) takes nothing"},
      {"Hs foo", "unknown modifier 's'"},
      {":! .f", "unknown modifier '!'"},
      {":-+ .f", "'-' and '+' together"},
      {": a/b", "plain file name"},
      {": ..", "plain file name"},
      {": /", "plain file name"},
      {". -", "standard input"},
      {"include,q a", "unknown modifier 'q'"},
      {"excludes a", "unknown rule"},
      {"- " + std::string(4100, 'a'), "longer than 4096 bytes"},
      {std::string("- a\0b", 5), "NUL"},
  };
  for (const Bad& b : bad) {
    const std::string msg = error_of(b.rule);
    EXPECT_NE(msg.find(b.says), std::string::npos) << "rule \"" << b.rule << "\" gave: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    if (b.rule.size() > 2 && b.rule.size() < 50 && b.rule.find('\0') == std::string::npos) {
      EXPECT_NE(msg.find(b.rule), std::string::npos) << msg;
    }
  }
}

TEST(FilterRules, DeleteExcludedMakesPlainRulesSenderOnly) {
  FilterRules rules;
  ASSERT_TRUE(rules.add_filter("- a"));
  ASSERT_TRUE(rules.add_filter("P b"));
  ASSERT_TRUE(rules.add_filter("+r c"));
  ASSERT_TRUE(rules.add_filter(": .f"));
  rules.set_delete_excluded(true);
  ASSERT_TRUE(rules.add_include("d"));
  EXPECT_EQ(rules.wire_rules(), (std::vector<std::string>{"-s a", "-r b", "+r c", ": .f", "+s d"}));
  FilterWalk receiver(rules, FilterSide::receiver);
  EXPECT_FALSE(receiver.excluded("a", false));
  EXPECT_TRUE(receiver.excluded("b", false));
  FilterWalk sender(rules, FilterSide::sender);
  EXPECT_TRUE(sender.excluded("a", false));
  EXPECT_FALSE(sender.excluded("b", false));
}

TEST(FilterRules, WireRoundTrip) {
  e2e::TempDir dir;
  e2e::write_file(dir / "m", "- from-merge\n");
  FilterRules rules;
  for (const std::string& f : {std::string("- *.o"), std::string("+ */"), std::string("-! keep*"),
                               std::string("H h"), std::string("S s"), std::string("P p/"),
                               std::string("R r/***"), std::string(":n-e .rsync-filter"),
                               std::string("dir-merge,w .w"), std::string(". ") + (dir / "m"),
                               std::string("-  spaced name "), std::string("- /anch/**/x")}) {
    ASSERT_TRUE(rules.add_filter(f)) << f;
  }
  ASSERT_TRUE(rules.add_exclude("[ab]\\*"));
  const auto lines = rules.wire_rules();
  auto back = FilterRules::from_wire(lines);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->wire_rules(), lines);
  for (const char* path : {"x.o", "d", "keep1", "other", "h", "s", "p", "r", "r/in", "from-merge",
                           ".rsync-filter", " spaced name ", "anch/q/x", "a*", "a"}) {
    for (const bool dir : {false, true}) {
      for (const FilterSide side : {FilterSide::sender, FilterSide::receiver}) {
        EXPECT_EQ(FilterWalk(rules, side).excluded(path, dir),
                  FilterWalk(*back, side).excluded(path, dir))
            << path << " dir=" << dir;
      }
    }
  }
}

TEST(FilterRules, FromWireRefusesHostileInput) {
  auto merge = FilterRules::from_wire({"- a", ". /etc/passwd"});
  ASSERT_FALSE(merge);
  EXPECT_NE(merge.error().message().find(". /etc/passwd"), std::string::npos);
  EXPECT_NE(merge.error().message().find("peer"), std::string::npos);
  EXPECT_FALSE(FilterRules::from_wire({"merge /etc/passwd"}));
  EXPECT_FALSE(FilterRules::from_wire({": ../../etc/x"}));
  auto longer = FilterRules::from_wire({"- " + std::string(4095, 'x')});
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message().find("longer than 4096"), std::string::npos);
  EXPECT_LT(longer.error().message().size(), 300u);  // one short line, not the whole rule
  EXPECT_TRUE(FilterRules::from_wire({"- " + std::string(4094, 'x')}));
  std::vector<std::string> many(10001, "- x");
  auto too_many = FilterRules::from_wire(many);
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("10001"), std::string::npos);
  many.pop_back();
  EXPECT_TRUE(FilterRules::from_wire(many));
  auto bogus = FilterRules::from_wire({"- ok", "?? what"});
  ASSERT_FALSE(bogus);
  EXPECT_NE(bogus.error().message().find("?? what"), std::string::npos);
  auto ctl = FilterRules::from_wire({"-q\n\x1b[2J"});
  ASSERT_FALSE(ctl);
  EXPECT_EQ(ctl.error().message().find('\n'), std::string::npos);
  EXPECT_EQ(ctl.error().message().find('\x1b'), std::string::npos);
}

// ---------------------------------------------------------------- walk

base::UniqueFd open_dir(const std::string& path) {
  auto fd = base::sys::open(path, O_RDONLY | O_DIRECTORY);
  EXPECT_TRUE(fd) << path;
  return fd ? std::move(*fd) : base::UniqueFd();
}

TEST(FilterWalk, MergeFilesStackAndUnstack) {
  e2e::TempDir dir;
  std::filesystem::create_directories(dir / "a/b");
  e2e::write_file(dir / ".r", "- *.o\n+ keep.x\n- *.x\n");
  e2e::write_file(dir / "a/.r", "+ *.o\n- /local\n");
  e2e::write_file(dir / "a/b/.r", "!\n- *.c\n");
  FilterRules rules;
  ASSERT_TRUE(rules.add_filter(": .r"));
  FilterWalk walk(rules, FilterSide::sender);
  auto root = open_dir(dir.path());
  auto a = open_dir(dir / "a");
  auto b = open_dir(dir / "a/b");
  ASSERT_TRUE(walk.enter(root.get(), ""));
  EXPECT_TRUE(walk.excluded("x.o", false));
  EXPECT_FALSE(walk.excluded("keep.x", false));
  ASSERT_TRUE(walk.enter(a.get(), "a"));
  EXPECT_FALSE(walk.excluded("a/x.o", false));   // the deeper file wins
  EXPECT_TRUE(walk.excluded("a/y.x", false));    // inherited
  EXPECT_TRUE(walk.excluded("a/local", false));  // anchored at a/
  ASSERT_TRUE(walk.enter(b.get(), "a/b"));
  EXPECT_FALSE(walk.excluded("a/b/y.x", false));  // "!" ended the inheritance
  EXPECT_FALSE(walk.excluded("a/b/local", false));
  EXPECT_TRUE(walk.excluded("a/b/z.c", false));
  walk.leave();
  EXPECT_TRUE(walk.excluded("a/y.x", false));
  walk.leave();
  EXPECT_TRUE(walk.excluded("x.o", false));
  EXPECT_FALSE(walk.excluded("a.c", false));
  walk.leave();
  EXPECT_EQ(walk.depth(), 0u);
}

TEST(FilterWalk, NoInheritAndSides) {
  e2e::TempDir dir;
  std::filesystem::create_directories(dir / "a");
  e2e::write_file(dir / ".n", "- x\n");
  e2e::write_file(dir / ".s", "y\n");
  FilterRules rules;
  ASSERT_TRUE(rules.add_filter(":n .n"));
  ASSERT_TRUE(rules.add_filter(":-r .s"));
  auto root = open_dir(dir.path());
  auto a = open_dir(dir / "a");
  FilterWalk sender(rules, FilterSide::sender);
  ASSERT_TRUE(sender.enter(root.get(), ""));
  EXPECT_TRUE(sender.excluded("x", false));
  EXPECT_FALSE(sender.excluded("y", false));
  ASSERT_TRUE(sender.enter(a.get(), "a"));
  EXPECT_FALSE(sender.excluded("a/x", false));
  FilterWalk receiver(rules, FilterSide::receiver);
  ASSERT_TRUE(receiver.enter(root.get(), ""));
  EXPECT_TRUE(receiver.excluded("y", false));
}

TEST(FilterWalk, BadMergeFilesAreErrorsNamingThem) {
  e2e::TempDir dir;
  std::filesystem::create_directories(dir / "link");
  std::filesystem::create_directories(dir / "fifo");
  std::filesystem::create_directories(dir / "big");
  std::filesystem::create_directories(dir / "dir/.r");
  std::filesystem::create_directories(dir / "nested");
  std::filesystem::create_directories(dir / "syntax");
  e2e::write_file(dir / "target", "- x\n");
  std::filesystem::create_symlink(dir / "target", dir / "link/.r");
  ASSERT_TRUE(base::sys::mkfifo(dir / "fifo/.r", 0644));
  e2e::write_file(dir / "big/.r", std::string((1 << 20) + 1, '#'));
  e2e::write_file(dir / "nested/.r", ". /etc/passwd\n");
  e2e::write_file(dir / "syntax/.r", "- ok\n-z nope\n");
  FilterRules rules;
  ASSERT_TRUE(rules.add_filter(": .r"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"link", "link/.r is a symlink"}, {"fifo", "fifo/.r is not a regular file"},
      {"big", "big/.r is over 1 MiB"},  {"dir", "dir/.r is not a regular file"},
      {"nested", "nested/.r line 1"},   {"syntax", "syntax/.r line 2"},
  };
  for (const auto& [sub, says] : cases) {
    FilterWalk walk(rules, FilterSide::sender);
    auto fd = open_dir(dir / sub);
    auto st = walk.enter(fd.get(), sub);
    ASSERT_FALSE(st) << sub;
    EXPECT_NE(st.error().message().find(says), std::string::npos) << st.error().message();
    EXPECT_EQ(walk.depth(), 0u);
  }
  // A hostile directory name still gives one line.
  std::filesystem::create_directories(dir / "new\nline");
  std::filesystem::create_symlink(dir / "target", dir / "new\nline/.r");
  {
    FilterWalk walk(rules, FilterSide::sender);
    auto fd = open_dir(dir / "new\nline");
    auto st = walk.enter(fd.get(), "new\nline");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message().find('\n'), std::string::npos) << st.error().message();
  }
  FilterWalk walk(rules, FilterSide::sender);
  auto root = open_dir(dir.path());
  EXPECT_TRUE(walk.enter(root.get(), ""));  // none there: fine
}

// ---------------------------------------------------------------- against rsync

void put(const std::string& root, const std::string& rel, const std::string& content = "x\n") {
  const std::string path = root + "/" + rel;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  e2e::write_file(path, content);
}

void put_dir(const std::string& root, const std::string& rel) {
  std::filesystem::create_directories(root + "/" + rel);
}

// The source tree every comparison starts from.
void make_source(const std::string& src) {
  for (const char* f : {"a.c",
                        "b.o",
                        "foo",
                        ".hidden",
                        "name with space.txt",
                        "star*.txt",
                        "br[ack].txt",
                        "q?.txt",
                        "x.c",
                        "bar/foo",
                        "bar/baz.c",
                        "bar/foo.o",
                        "sub/x.c",
                        "sub/x.o",
                        "sub/more",
                        "sub/foo/bar",
                        "sub/foo/x.c",
                        "sub/deep/foo",
                        "sub/deep/more/file.c",
                        "sub/deep/more/file.o",
                        "sub/deep/more/foo",
                        "sub/deep/more/deeper/end.c",
                        "x/foo/bar",
                        "x/foo/baz",
                        "keep/a.txt",
                        "dir with space/inner.c",
                        "dir with space/inner.o",
                        "we[ird]/f.c",
                        "we[ird]/foo",
                        ".git/config",
                        "deep/x.c",
                        "Upper.C",
                        "1digit.c"}) {
    put(src, f);
  }
  put_dir(src, "emptydir");
  put_dir(src, "sub/foo/emptier");
}

struct Tree {
  e2e::TempDir tmp;
  std::string src = tmp / "src";
  std::string dst = tmp / "dst";
};

std::string expand(const std::string& arg, const Tree& t) {
  std::string out = arg;
  for (size_t at = out.find("{T}"); at != std::string::npos; at = out.find("{T}"))
    out.replace(at, 3, t.tmp.path());
  return out;
}

FilterRules rules_from_args(const std::vector<std::string>& args) {
  FilterRules rules;
  int f_count = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    base::Status st;
    auto value = [&](std::string_view prefix) { return a.substr(prefix.size()); };
    if (a == "-f") {
      st = rules.add_filter(args[++i]);
    } else if (a == "-F") {
      st = rules.add_filter(++f_count == 1 ? ": /.rsync-filter" : "- .rsync-filter");
    } else if (a.rfind("--exclude=", 0) == 0) {
      st = rules.add_exclude(value("--exclude="));
    } else if (a.rfind("--include=", 0) == 0) {
      st = rules.add_include(value("--include="));
    } else if (a.rfind("--exclude-from=", 0) == 0) {
      st = rules.add_exclude_from(value("--exclude-from="));
    } else if (a.rfind("--include-from=", 0) == 0) {
      st = rules.add_include_from(value("--include-from="));
    } else if (a == "--delete-excluded") {
      rules.set_delete_excluded(true);
    } else {
      ADD_FAILURE() << "test does not know " << a;
    }
    EXPECT_TRUE(st) << a << ": " << (st ? "" : st.error().message());
  }
  return rules;
}

struct RsyncOut {
  Names listed;   // sent (dirs with a trailing '/', the root left out)
  Names deleted;  // "deleting NAME", less "cannot delete non-empty directory: NAME"
};

RsyncOut run_rsync(const Tree& t, const std::vector<std::string>& args, bool del) {
  std::vector<std::string> argv = {"/usr/bin/rsync", "-a", "-n", "--out-format=%n"};
  if (del) argv.emplace_back("--delete");
  for (const auto& a : args) argv.push_back(expand(a, t));
  argv.push_back(t.src + "/");
  argv.push_back(t.dst + "/");
  e2e::Process proc(argv);
  const e2e::ProcResult r = proc.wait(std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  RsyncOut out;
  std::istringstream lines(r.out);
  std::string line;
  Names kept;
  while (std::getline(lines, line)) {
    if (line.empty() || line == "./") continue;
    static const std::string kNotEmpty = "cannot delete non-empty directory: ";
    if (line.rfind("deleting ", 0) == 0) {
      out.deleted.insert(line.substr(9));
    } else if (line.rfind(kNotEmpty, 0) == 0) {
      // A dry run may still say "deleting" for it; a real one keeps it.
      kept.insert(line.substr(kNotEmpty.size()) + "/");
    } else {
      out.listed.insert(line);
    }
  }
  for (const auto& k : kept) out.deleted.erase(k);
  return out;
}

struct Entry {
  std::string name;
  bool is_dir;
};

std::vector<Entry> list_dir(int dir_fd) {
  std::vector<Entry> out;
  auto dup = base::sys::dup(dir_fd);
  EXPECT_TRUE(dup);
  if (!dup) return out;
  auto dir = base::sys::fdopendir(*dup);
  EXPECT_TRUE(dir);
  if (!dir) return out;
  while (true) {
    auto ent = base::sys::readdir(*dir);
    if (!ent || *ent == nullptr) break;
    const std::string name = (*ent)->d_name;
    if (name == "." || name == "..") continue;
    auto st = base::sys::fstatat(dir_fd, name, AT_SYMLINK_NOFOLLOW);
    EXPECT_TRUE(st);
    if (st) out.push_back({name, S_ISDIR(st->st_mode)});
  }
  closedir(*dir);
  return out;
}

std::string child(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : rel + "/" + name;
}

// The sender: every entry not excluded, not descending into excluded dirs.
void send_walk(FilterWalk& walk, int dir_fd, const std::string& rel, Names& out) {
  auto st = walk.enter(dir_fd, rel);
  ASSERT_TRUE(st) << st.error().message();
  for (const Entry& e : list_dir(dir_fd)) {
    const std::string path = child(rel, e.name);
    if (walk.excluded(path, e.is_dir)) continue;
    out.insert(e.is_dir ? path + "/" : path);
    if (e.is_dir) {
      auto sub = base::sys::openat(dir_fd, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      ASSERT_TRUE(sub);
      send_walk(walk, sub->get(), path, out);
    }
  }
  walk.leave();
}

Names sender_names(const std::string& src, const FilterRules& rules) {
  FilterWalk walk(rules, FilterSide::sender);
  Names out;
  auto root = open_dir(src);
  send_walk(walk, root.get(), "", out);
  return out;
}

// The receiver: what --delete removes. An entry the sender sent stays (a
// directory of it is looked into); any other is deleted unless protected; a
// directory being deleted goes only when all its contents went.
bool delete_walk(FilterWalk& walk, int dir_fd, const std::string& rel, const Names& sent,
                 bool doomed, Names& out) {
  auto st = walk.enter(dir_fd, rel);
  EXPECT_TRUE(st) << st.error().message();
  if (!st) return false;
  bool emptied = true;
  for (const Entry& e : list_dir(dir_fd)) {
    const std::string path = child(rel, e.name);
    const bool in_source = !doomed && (sent.count(path) != 0 || sent.count(path + "/") != 0);
    if (!in_source && walk.excluded(path, e.is_dir)) {
      emptied = false;  // protected
      continue;
    }
    if (in_source) emptied = false;
    if (e.is_dir) {
      auto sub = base::sys::openat(dir_fd, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      EXPECT_TRUE(sub);
      if (!sub) continue;
      const bool gone = delete_walk(walk, sub->get(), path, sent, !in_source, out);
      if (!in_source) {
        if (gone) {
          out.insert(path + "/");
        } else {
          emptied = false;
        }
      }
    } else if (!in_source) {
      out.insert(path);
    }
  }
  walk.leave();
  return emptied;
}

Names deleted_names(const std::string& dst, const FilterRules& rules, const Names& sent) {
  FilterWalk walk(rules, FilterSide::receiver);
  Names out;
  auto root = open_dir(dst);
  delete_walk(walk, root.get(), "", sent, false, out);
  return out;
}

std::string show(const Names& names) {
  std::string out;
  for (const auto& n : names) out += "  " + n + "\n";
  return out;
}

void expect_same(const Names& rsync, const Names& ours, const std::string& what) {
  Names only_rsync;
  Names only_ours;
  for (const auto& n : rsync)
    if (ours.count(n) == 0) only_rsync.insert(n);
  for (const auto& n : ours)
    if (rsync.count(n) == 0) only_ours.insert(n);
  EXPECT_TRUE(only_rsync.empty() && only_ours.empty()) << what << "\nonly rsync:\n"
                                                       << show(only_rsync) << "only ours:\n"
                                                       << show(only_ours);
}

struct Case {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> files;  // more source files ("{T}/.." outside)
};

void put_case_files(const Tree& t, const Case& c, const std::string& root) {
  for (const auto& [rel, content] : c.files) {
    if (rel.rfind("{T}/", 0) == 0) {
      e2e::write_file(expand(rel, t), content);
    } else {
      put(root, rel, content);
    }
  }
}

std::vector<Case> send_cases() {
  return {
      {"suffix", {"--exclude=*.o"}, {}},
      {"anchored", {"--exclude=/foo", "--exclude=/sub/deep/"}, {}},
      {"unanchored slash", {"--exclude=foo/bar"}, {}},
      {"slash counts components", {"--exclude=sub/*/more"}, {}},
      {"double star", {"--exclude=sub/**/foo"}, {}},
      {"leading double star", {"-f", "- **/deep"}, {}},
      {"double star suffix", {"--exclude=**.o", "--exclude=x/**"}, {}},
      {"triple star", {"-f", "+ sub/***", "-f", "+ keep/***", "-f", "- *"}, {}},
      {"trailing slash", {"--exclude=foo/"}, {}},
      {"include before exclude", {"-f", "+ */", "-f", "+ *.c", "-f", "- *"}, {}},
      {"include list", {"--include=*.c", "--include=*/", "--exclude=*"}, {}},
      {"question mark and class",
       {"--exclude=?.c", "--exclude=*[ck]*.txt", "--exclude=[[:digit:]]*"},
       {}},
      {"negated class", {"-f", "+ */", "-f", "- [!a-m]*"}, {}},
      {"escapes", {"--exclude=star\\*.txt", "--exclude=q\\?*", "--exclude=br\\[ack]*"}, {}},
      {"names with wildcards literally", {"--exclude=we[ird]", "--exclude=star*.txt"}, {}},
      {"spaces", {"--exclude=name with space.txt", "-f", "-_dir with space/"}, {}},
      {"dotfiles", {"--exclude=.*"}, {}},
      {"negate", {"-f", "-! */"}, {}},
      {"negate file", {"-f", "+ keep/", "-f", "-! keep/*"}, {}},
      {"clear", {"--exclude=*.c", "-f", "!", "--exclude=*.o", "--exclude=!", "--exclude=foo"}, {}},
      {"sides", {"-f", "H *.o", "-f", "P *.c", "-f", "S keep", "-f", "- kee*"}, {}},
      {"old style prefixes", {"--exclude=+ x.c", "--exclude=*.c", "--include=- sub"}, {}},
      {"dir-merge",
       {"-f", ": .rsync-filter"},
       {{".rsync-filter", "- *.o\n# comment\n+ keep\n- kee*\n"},
        {"sub/.rsync-filter", "+ x.o\n- /more\n- deep/more/\n"},
        {"sub/deep/.rsync-filter", "- foo\n"},
        {"sub/deep/more/.rsync-filter", "!\n- *.c\n"}}},
      {"dir-merge n",
       {"-f", ":n .rsync-filter"},
       {{".rsync-filter", "- foo\n- *.c\n"}, {"sub/.rsync-filter", "- x.o\n"}}},
      {"dir-merge e",
       {"-f", ":e .rsync-filter"},
       {{".rsync-filter", "- *.txt\n"}, {"bar/.rsync-filter", "- foo*\n"}}},
      {"dir-merge minus",
       {"-f", "dir-merge,- .excl"},
       {{".excl", "*.o\n;semi\nfoo\n"}, {"sub/deep/.excl", "more\n"}}},
      {"dir-merge plus", {"-f", ":+ .inc", "-f", "- *.c"}, {{"sub/.inc", "x.c\n"}}},
      {"dir-merge word split", {"-f", ":w .w"}, {{".w", "-_*.o +_keep\n-_kee*\n"}}},
      {"dir-merge after global", {"-f", "- *.o", "-f", ": .r"}, {{"sub/.r", "+ *.o\n- *.c\n"}}},
      {"dir-merge anchored in subdir",
       {"-f", ": .r"},
       {{"sub/.r", "- /foo\n- /deep/more/foo\n"}, {"bar/.r", "- /foo\n"}}},
      {"dir-merge unanchored slash", {"-f", ": .r"}, {{"sub/.r", "- more/foo\n- sub/x.c\n"}}},
      {"F", {"-F"}, {{".rsync-filter", "- *.o\n"}, {"sub/.rsync-filter", "- foo\n"}}},
      {"FF", {"-F", "-F"}, {{".rsync-filter", "- *.o\n"}, {"sub/.rsync-filter", "- foo\n"}}},
      {"merge file",
       {"-f", ". {T}/rules", "-f", "- x*"},
       {{"{T}/rules", "+ x.c\n- *.c\n: .pd\n"}, {"sub/.pd", "- more\n"}}},
      {"exclude-from", {"--exclude-from={T}/ex"}, {{"{T}/ex", "# c\n*.o\n\n+ keep\nkee*\n"}}},
  };
}

TEST(FilterVsRsync, SenderListsTheSameNames) {
  int compared = 0;
  for (const Case& c : send_cases()) {
    SCOPED_TRACE(c.name);
    Tree t;
    make_source(t.src);
    put_dir(t.dst, "");
    put_case_files(t, c, t.src);
    const RsyncOut rsync = run_rsync(t, c.args, false);
    FilterRules rules = rules_from_args([&] {
      std::vector<std::string> args;
      for (const auto& a : c.args) args.push_back(expand(a, t));
      return args;
    }());
    const Names ours = sender_names(t.src, rules);
    expect_same(rsync.listed, ours, "sent, case \"" + c.name + "\"");
    EXPECT_GT(rsync.listed.size(), 0u);
    ++compared;
  }
  EXPECT_GE(compared, 15);
}

// Every entry under `root`, relative, directories with a trailing '/'.
Names list_tree(const std::string& root) {
  Names out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string rel = std::filesystem::relative(e.path(), root).string();
    out.insert(e.is_directory() && !e.is_symlink() ? rel + "/" : rel);
  }
  return out;
}

struct DeleteCase {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> src_files;
  std::vector<std::pair<std::string, std::string>> dst_files;
};

std::vector<DeleteCase> delete_cases() {
  const std::vector<std::pair<std::string, std::string>> extras = {
      {"old.txt", "x"},     {"old.o", "x"},        {"sub/extra.o", "x"},
      {"sub/extra.c", "x"}, {"gone/f.o", "x"},     {"gone/g.txt", "x"},
      {"gone/in/h.c", "x"}, {"keep/old.txt", "x"}, {"sub/deep/more/extra", "x"},
      {"foo2/bar", "x"},    {"sub/foo/old", "x"},  {"x/foo/gone.o", "x"},
  };
  auto with = [&](std::vector<std::pair<std::string, std::string>> more) {
    auto all = extras;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  return {
      {"plain", {}, {}, extras},
      {"exclude protects", {"--exclude=*.o"}, {}, extras},
      {"delete-excluded", {"--exclude=*.o", "--delete-excluded"}, {}, extras},
      {"protect dir", {"-f", "P gone/"}, {}, extras},
      {"protect sent dir", {"-f", "P keep/", "-f", "P sub/"}, {}, extras},
      {"hide does not protect", {"-f", "H *.o"}, {}, extras},
      {"risk", {"-f", "R *.o", "-f", "- *.o"}, {}, extras},
      {"anchored", {"-f", "- /sub/deep", "-f", "- /old.txt"}, {}, extras},
      {"include before exclude", {"-f", "+ */", "-f", "+ *.c", "-f", "- *"}, {}, extras},
      {"include before exclude, delete-excluded",
       {"-f", "+ */", "-f", "+ *.c", "-f", "- *", "--delete-excluded"},
       {},
       extras},
      {"dir-merge on each side",
       {"-F"},
       {{".rsync-filter", "- *.o\n"}},
       with({{".rsync-filter", "- *.txt\n"}, {"gone/.rsync-filter", "- *.c\n"}})},
      {"dir-merge, delete-excluded",
       {"-F", "--delete-excluded"},
       {{".rsync-filter", "- *.o\n"}},
       with({{".rsync-filter", "- *.txt\nP *.c\n"}})},
      {"dir-merge e", {"-f", ":e .r"}, {}, with({{".r", "- old*\n"}, {"sub/.r", "P extra.c\n"}})},
      {"triple star", {"-f", "- gone/***", "-f", "- x/"}, {}, extras},
  };
}

TEST(FilterVsRsync, ReceiverDeletesTheSameNames) {
  int compared = 0;
  for (const DeleteCase& c : delete_cases()) {
    SCOPED_TRACE(c.name);
    Tree t;
    make_source(t.src);
    for (const auto& [rel, content] : c.src_files) put(t.src, rel, content);
    // dst: a copy of the source, then the extras.
    {
      e2e::Process cp({"/usr/bin/rsync", "-a", t.src + "/", t.dst + "/"});
      ASSERT_EQ(cp.wait(std::chrono::seconds(60)).exit_code, 0);
    }
    for (const auto& [rel, content] : c.dst_files) put(t.dst, rel, content);
    const RsyncOut rsync = run_rsync(t, c.args, true);
    const FilterRules rules = rules_from_args(c.args);
    const Names sent = sender_names(t.src, rules);
    const Names ours = deleted_names(t.dst, rules, sent);
    expect_same(rsync.deleted, ours, "deleted (dry run), case \"" + c.name + "\"");
    // And for real: what is gone from dst afterwards.
    const Names before = list_tree(t.dst);
    std::vector<std::string> argv = {"/usr/bin/rsync", "-a", "--delete"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.push_back(t.src + "/");
    argv.push_back(t.dst + "/");
    e2e::Process real(argv);
    const e2e::ProcResult r = real.wait(std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Names gone;
    const Names after = list_tree(t.dst);
    for (const auto& n : before)
      if (after.count(n) == 0) gone.insert(n);
    expect_same(gone, ours, "deleted (real run), case \"" + c.name + "\"");
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

// Where ferry knowingly differs: rsync pastes the directory's name in front
// of an anchored pattern from its merge file, wildcards and all, so in a
// directory named "d[1]" the rule "- /foo" becomes "/d[1]/foo", whose "[1]"
// is a class that cannot match "[1]". ferry takes the name literally.
TEST(FilterVsRsync, AnchoredMergeRuleUnderWildcardDirectoryName) {
  Tree t;
  put(t.src, "d[1]/foo");
  put(t.src, "d[1]/bar");
  put(t.src, "d[1]/.r", "- /foo\n");
  put_dir(t.dst, "");
  const RsyncOut rsync = run_rsync(t, {"-f", ": .r"}, false);
  EXPECT_EQ(rsync.listed.count("d[1]/foo"), 1u);  // rsync sends it
  FilterRules rules;
  ASSERT_TRUE(rules.add_filter(": .r"));
  const Names ours = sender_names(t.src, rules);
  EXPECT_EQ(ours.count("d[1]/foo"), 0u);  // ferry excludes it, as the rule says
  EXPECT_EQ(ours.count("d[1]/bar"), 1u);
}

}  // namespace
