#include "ferry/sync/filter_walk.h"

#include "base/printable.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace ferry::sync {

FilterWalk::FilterWalk(const FilterRules& rules, FilterSide side)
    : rules_(rules.rules()), delete_excluded_(rules.delete_excluded()), side_(side) {
  slot_of_.assign(rules_.size(), 0);
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].type == FilterRule::Type::dir_merge) slot_of_[i] = slots_++;
  }
}

namespace {

// A path for a one-line message: control bytes escaped.
std::string printable(std::string_view path) {
  return base::printable(path, path.size());
}

}  // namespace

base::Result<MergeFileRules> FilterWalk::read_merge_file(int dir_fd, std::string_view rel_dir,
                                                         const FilterRule& merge) const {
  const std::string shown =
      printable(rel_dir.empty() ? merge.merge_name : std::string(rel_dir) + "/" + merge.merge_name);
  // O_NONBLOCK: a FIFO planted under the name must not stall the walk.
  auto opened = base::sys::openat(dir_fd, merge.merge_name,
                                  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0, shown);
  if (!opened) {
    if (opened.error().code() == ENOENT) return MergeFileRules{};
    if (opened.error().code() == ELOOP) {
      return base::fail_msg("filter merge file " + shown + " is a symlink");
    }
    return base::fail(std::move(opened.error()).context("filter merge file"));
  }
  const base::UniqueFd fd = std::move(*opened);
  const struct stat st = TRY_CTX(base::sys::fstat(fd.get(), shown), "filter merge file");
  if (!S_ISREG(st.st_mode)) {
    return base::fail_msg("filter merge file " + shown + " is not a regular file");
  }
  if (static_cast<unsigned long long>(st.st_size) > kMaxFilterFileBytes) {
    return base::fail_msg("filter merge file " + shown + " is over 1 MiB");
  }
  // Read to the end (the size may change under us), never past the cap.
  std::string text;
  char buf[16384];
  while (true) {
    const size_t n =
        TRY_CTX(base::sys::read(fd.get(), buf, sizeof buf, shown), "filter merge file");
    if (n == 0) break;
    text.append(buf, n);
    if (text.size() > kMaxFilterFileBytes) {
      return base::fail_msg("filter merge file " + shown + " is over 1 MiB");
    }
  }
  MergeSyntax syntax;
  syntax.only = merge.only;
  syntax.word_split = merge.word_split;
  syntax.sender = merge.sender;
  syntax.receiver = merge.receiver;
  return parse_dir_merge_text(text, syntax, rel_dir, shown);
}

base::Status FilterWalk::enter(int dir_fd, std::string_view rel_dir) {
  Scope scope;
  scope.files.resize(slots_);
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].type != FilterRule::Type::dir_merge) continue;
    scope.files[slot_of_[i]] = TRY(read_merge_file(dir_fd, rel_dir, rules_[i]));
  }
  scopes_.push_back(std::move(scope));
  return {};
}

void FilterWalk::leave() {
  if (!scopes_.empty()) scopes_.pop_back();
}

int FilterWalk::decide(const FilterRule& rule, std::string_view rel_path, bool is_dir) const {
  if (!rule.applies(side_, delete_excluded_)) return 0;
  if (rule.pattern.matches(rel_path, is_dir) == rule.negate) return 0;
  return rule.type == FilterRule::Type::include ? 1 : -1;
}

bool FilterWalk::excluded(std::string_view rel_path, bool is_dir) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FilterRule& rule = rules_[i];
    if (rule.type != FilterRule::Type::dir_merge) {
      if (const int d = decide(rule, rel_path, is_dir); d != 0) return d < 0;
      continue;
    }
    // The merge files' rules, the deepest directory's first.
    const size_t slot = slot_of_[i];
    for (size_t s = scopes_.size(); s-- > 0;) {
      const MergeFileRules& file = scopes_[s].files[slot];
      for (const FilterRule& r : file.rules) {
        if (const int d = decide(r, rel_path, is_dir); d != 0) return d < 0;
      }
      if (file.cleared || rule.no_inherit) break;
    }
  }
  return false;
}

}  // namespace ferry::sync
