// FilterWalk: evaluates a FilterRules list during a depth-first walk of one
// side's tree, as rsync does on that side:
//   - sender: excluded() means "not sent" (exclude and hide rules apply;
//     include and show rules stop the search);
//   - receiver: excluded() means "protected from deletion" (exclude and
//     protect rules apply, include and risk rules stop the search; under
//     --delete-excluded, rules that name no side are the sender's only).
// The first matching rule wins; nothing matching means not excluded. A walk
// must not descend into an excluded directory (its contents are never
// reached, whatever later rules say).
//
// Per-directory merge files (dir-merge rules): enter() reads the directory's
// file for each dir-merge rule. Its rules take the dir-merge rule's place in
// the list, the deepest directory's first, then those inherited from the
// parents — unless the rule has 'n' (only the current directory's file
// counts) or a file holds "!" (the inherited rules end there). A '/'-anchored
// pattern in a file is anchored at that file's directory.
// A merge file is opened without following symlinks; a symlink, something
// other than a regular file, or a file over 1 MiB is an error naming it; a
// missing one is fine.
// Usage: enter(root_fd, ""), then for each entry of the directory last
// entered ask excluded(); enter(sub_fd, "sub") before listing a
// subdirectory, leave() after it. excluded() must be asked about entries of
// the directory last entered (and not left): the rules of its merge files
// are the ones in effect.
// Thread-safety: one walk per thread; const methods may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "ferry/sync/filter_rules.h"

namespace ferry::sync {

class FilterWalk {
 public:
  // Keeps a copy of `rules`.
  FilterWalk(const FilterRules& rules, FilterSide side);

  // Entering directory `rel_dir` ("" for the transfer root, "a/b" below it)
  // whose open descriptor is `dir_fd`: reads its dir-merge files. On an error
  // nothing is entered (do not call leave()).
  base::Status enter(int dir_fd, std::string_view rel_dir);
  // Leaves the directory of the matching enter().
  void leave();
  // How deep the walk is: the number of enter()s not yet left.
  size_t depth() const { return scopes_.size(); }

  // Whether `rel_path` (relative to the transfer root, no leading '/',
  // '/'-separated; `is_dir` for a directory) is excluded on this side.
  bool excluded(std::string_view rel_path, bool is_dir) const;

 private:
  // The rules of one directory's merge files: one entry per dir-merge rule.
  struct Scope {
    std::vector<MergeFileRules> files;
  };
  base::Result<MergeFileRules> read_merge_file(int dir_fd, std::string_view rel_dir,
                                               const FilterRule& merge) const;
  // 1 include, -1 exclude, 0 no decision.
  int decide(const FilterRule& rule, std::string_view rel_path, bool is_dir) const;

  std::vector<FilterRule> rules_;
  bool delete_excluded_ = false;
  FilterSide side_;
  std::vector<size_t> slot_of_;  // rules_ index -> index into Scope::files (dir-merge rules)
  size_t slots_ = 0;
  std::vector<Scope> scopes_;
};

}  // namespace ferry::sync
