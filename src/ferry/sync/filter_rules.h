// FilterRules: the ordered list of rsync filter rules a user gave (--filter,
// --include, --exclude, --include-from, --exclude-from), parsed and checked,
// with "." merge files already read and replaced by their rules. FilterWalk
// evaluates the list during a walk; wire_rules()/from_wire() carry it to the
// peer as self-contained lines.
//
// Rule syntax, as rsync's --filter takes it ("RULE[,MODIFIERS] PATTERN", the
// separator one space or '_'; short rule names may drop the ','):
//   "-"/"exclude", "+"/"include"   modifiers '!' (negate), 's' (sender only),
//                                  'r' (receiver only)
//   "H"/"hide", "S"/"show"         sender-only exclude/include ('!' allowed)
//   "P"/"protect", "R"/"risk"      receiver-only exclude/include ('!' allowed)
//   "!"/"clear"                    drops every rule before it (no argument)
//   "."/"merge FILE"               reads FILE now (from the local filesystem)
//   ":"/"dir-merge NAME"           reads NAME in each directory of the walk
//   merge modifiers: '-'/'+' (lines are plain exclude/include patterns),
//   'n' (not inherited by subdirectories), 'e' (also exclude NAME itself),
//   'w' (split on whitespace, no comments), 's'/'r' (the side of every rule
//   read from the file, which then must not name one itself).
// Refused with a one-line error naming the rule and the reason: an unknown
// rule or modifier, the modifiers '/' (absolute-path match), 'C' (CVS
// mode), 'p' (perishable) and 'x' (xattr names), an empty pattern, a rule
// over 4096 bytes, merge from standard input ("-"), a dir-merge NAME that is
// not a plain file name (a leading '/' is accepted and dropped: ferry does
// not scan the parents of the transfer root as rsync does), and merge files
// nested more than 8 deep.
// --include/--exclude patterns (and the lines of their -from files) take
// rsync's old-style prefixes: "- PAT", "+ PAT", and "!" alone clears.
// Thread-safety: a value; const methods may run concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "ferry/sync/filter_pattern.h"

namespace ferry::sync {

enum class FilterSide { sender, receiver };

// Longest rule (or merge-file line) accepted, in bytes.
inline constexpr size_t kMaxFilterRuleBytes = 4096;
// Most rules from_wire() accepts.
inline constexpr size_t kMaxWireFilterRules = 10000;
inline constexpr size_t kMaxWireFilterBytes = size_t{256} << 10;  // all of a peer's rules
inline constexpr size_t kMaxWireDirMerges = 8;                    // of a peer's rules
// Largest merge file read (a "." merge, a per-directory file, a -from file).
inline constexpr size_t kMaxFilterFileBytes = size_t{1} << 20;

// One rule of the list. Include/exclude rules carry a pattern; a dir-merge
// rule names the per-directory file and how its lines are read.
struct FilterRule {
  enum class Type { include, exclude, dir_merge };
  Type type = Type::exclude;
  bool negate = false;    // '!': applies where the pattern does not match
  bool sender = false;    // explicit sides; neither means both
  bool receiver = false;  // (or the sender only, under --delete-excluded)
  FilterPattern pattern;  // include, exclude
  // dir_merge: the file's name and how to read it.
  std::string merge_name;
  bool no_inherit = false;  // 'n'
  bool word_split = false;  // 'w'
  char only = 0;            // '-' or '+': every line is a pattern of that kind

  // Whether the rule takes part on `side` (include/exclude rules).
  bool applies(FilterSide side, bool delete_excluded) const;
  // The rule as one line of --filter syntax that parses back to it.
  std::string line(bool delete_excluded) const;
};

// How the lines of a merge file are read: its merge rule's modifiers.
struct MergeSyntax {
  char only = 0;  // '-' or '+'
  bool word_split = false;
  bool sender = false;  // side given on the merge rule
  bool receiver = false;
};

// The rules of one per-directory merge file: its text parsed as `syntax`
// says; patterns anchored with '/' are anchored at `anchor_dir`. `cleared`
// says the file holds a "!" (inherited rules end there). Merge rules inside
// the file are refused. Errors name `file_name`.
struct MergeFileRules {
  std::vector<FilterRule> rules;
  bool cleared = false;
};
base::Result<MergeFileRules> parse_dir_merge_text(std::string_view text, const MergeSyntax& syntax,
                                                  std::string_view anchor_dir,
                                                  std::string_view file_name);

class FilterRules {
 public:
  // One rule in --filter syntax (see above).
  base::Status add_filter(std::string_view rule);
  // --exclude / --include: a pattern, or an old-style "- PAT", "+ PAT", "!".
  base::Status add_exclude(std::string_view pattern);
  base::Status add_include(std::string_view pattern);
  // --exclude-from / --include-from: one pattern a line; blank lines and
  // lines starting with ';' or '#' are ignored; "\r\n" line ends are fine.
  base::Status add_exclude_from(const std::string& file);
  base::Status add_include_from(const std::string& file);

  // --delete-excluded: include/exclude rules that name no side (and those a
  // dir-merge file holds) become sender-only, so the receiver does not
  // protect what the sender excludes. Applies to the whole list, rules added
  // later too. Not part of wire_rules() for dir-merge files: the receiving
  // side calls it itself (the option travels with the transfer's options).
  void set_delete_excluded(bool on) { delete_excluded_ = on; }
  bool delete_excluded() const { return delete_excluded_; }

  // The rules as self-contained --filter lines ("." merges already expanded,
  // dir-merge rules kept: each side reads its own tree's files).
  std::vector<std::string> wire_rules() const;
  // The peer's lines, checked as hostile input: at most kMaxWireFilterRules
  // lines of at most kMaxFilterRuleBytes, kMaxWireFilterBytes in all, at most
  // kMaxWireDirMerges dir-merge rules, no "." merge (a peer must not make
  // us read a local file). Errors are one line naming the bad rule.
  static base::Result<FilterRules> from_wire(const std::vector<std::string>& lines);

  bool empty() const { return rules_.empty(); }
  const std::vector<FilterRule>& rules() const { return rules_; }

 private:
  base::Status add_rule_text(std::string_view rule, int depth, bool from_peer);
  base::Status add_old_style(std::string_view pattern, bool include);
  base::Status add_from_file(const std::string& file, bool include);
  base::Status merge_file(const std::string& path, const MergeSyntax& syntax, int depth);

  std::vector<FilterRule> rules_;
  bool delete_excluded_ = false;
};

}  // namespace ferry::sync
