#include "ferry/sync_delete.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/peer_path.h"
#include "ferry/sync/filter_walk.h"
#include "ferry/sync_item.h"

namespace ferry {
namespace sys = base::sys;
namespace {
std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool is_part_file(const std::string& name) {
  static const std::string kSuffix = ".ferry-part";
  return (name.size() > kSuffix.size() + 1 && name[0] == '.' &&
          name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) ||
         name.rfind(".ferry-part-", 0) == 0;
}

base::Result<base::UniqueFd> open_listing(int root, const std::string& rel) {
  return sys::openat2(root, rel.empty() ? "." : rel, O_RDONLY | O_DIRECTORY, 0,
                      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, rel.empty() ? "." : rel);
}

// A directory's names (not "." and ".."), read at once so entries can be
// removed while going through them.
base::Result<std::vector<std::string>> list(int dir_fd, const std::string& shown) {
  auto fd = TRY(sys::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY, 0, shown));
  DIR* d = TRY(sys::fdopendir(fd.get(), shown));
  fd.release();  // owned by `d` now
  std::vector<std::string> names;
  base::Status st;
  for (;;) {
    auto e = sys::readdir(d, shown);
    if (!e) {
      st = base::fail(std::move(e).error());
      break;
    }
    if (*e == nullptr) break;
    std::string n = (*e)->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  closedir(d);
  TRY_STATUS(st);
  return names;
}
}  // namespace

// The receiver's filter, kept in step with the directories being looked at.
struct ExtraneousSweep::Walk {
  std::optional<sync::FilterWalk> filter;
  bool excluded(const std::string& rel, bool is_dir) const {
    return filter && filter->excluded(rel, is_dir);
  }
  base::Status enter(int fd, const std::string& rel) {
    if (filter) TRY_STATUS(filter->enter(fd, rel));
    return {};
  }
  void leave() {
    if (filter) filter->leave();
  }
};

ExtraneousSweep::ExtraneousSweep(int root_fd, SweepOptions options)
    : root_(root_fd), options_(std::move(options)) {}

void ExtraneousSweep::announced(const std::string& rel, bool is_dir) {
  announced_.insert(rel);
  if (is_dir) dirs_.push_back(rel);
}

bool ExtraneousSweep::remove(Walk& w, int dir, const std::string& name, const std::string& rel,
                             std::vector<std::string>* errors) {
  auto st = sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW, rel);
  if (!st) {
    errors->push_back(st.error().message());
    return false;
  }
  bool is_dir = S_ISDIR(st->st_mode);
  if (is_dir) {
    bool emptied = true;
    auto sub = sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, rel);
    auto names = sub ? list(sub->get(), rel) : base::fail(sub.error());
    if (!names || !w.enter(sub->get(), rel)) {
      errors->push_back(names ? fmt::format("{}: cannot read its filter files", rel)
                              : names.error().message());
      return false;
    }
    for (const auto& n : *names) {
      std::string child = join(rel, n);
      auto cst = sys::fstatat(sub->get(), n, AT_SYMLINK_NOFOLLOW, child);
      if (cst && options_.backups && options_.backups->is_backup(n, *cst)) {
        emptied = false;
        continue;
      }
      bool child_dir = cst && S_ISDIR(cst->st_mode);
      if (w.excluded(child, child_dir)) {
        emptied = false;
        continue;
      }
      emptied = remove(w, sub->get(), n, child, errors) && emptied;
    }
    w.leave();
    if (!emptied) return false;
  }
  if (options_.item) options_.item(item_deleting(rel, is_dir));
  deleted_++;
  if (options_.dry_run) return true;
  if (!is_dir && options_.backups) {
    auto kept = options_.backups->keep(dir, name,
                                       options_.within.empty() ? rel : options_.within + "/" + rel);
    if (!kept) {
      errors->push_back(kept.error().message());
      return false;
    }
    return options_.backups->moves_out();  // a backup beside it keeps its directory
  }
  auto gone = sys::unlinkat(dir, name, is_dir ? AT_REMOVEDIR : 0, rel);
  if (!gone) {
    errors->push_back(gone.error().message());
    return false;
  }
  return true;
}

uint64_t ExtraneousSweep::run(std::vector<std::string>* errors) {
  Walk w;
  if (options_.filter) w.filter.emplace(*options_.filter, sync::FilterSide::receiver);
  // Directories entered, from the target down: the filter's scopes match.
  std::vector<std::pair<std::string, base::UniqueFd>> stack;
  auto root = open_listing(root_, "");
  if (!root) {
    errors->push_back(root.error().message());
    return 0;
  }
  if (auto st = w.enter(root->get(), ""); !st) {
    errors->push_back(st.error().message());
    return 0;
  }
  stack.emplace_back("", std::move(*root));
  // Announced directories in the order announced (a directory before its
  // contents). One whose parent is not the directory last entered (or one of
  // its ancestors) is skipped with its subtree: its parent was not announced,
  // could not be opened, or was swept already, and its filter scopes would be
  // wrong. A directory is swept once.
  std::unordered_set<std::string> swept;
  for (const std::string& d : dirs_) {
    if (!swept.insert(d).second) continue;
    if (d.empty()) {
      while (stack.size() > 1) {
        w.leave();
        stack.pop_back();
      }
    } else {
      std::string parent = split_parent(d).first;
      auto is_ancestor = [&](const std::string& a) {
        return a.empty() || parent == a || parent.rfind(a + "/", 0) == 0;
      };
      while (stack.size() > 1 && !is_ancestor(stack.back().first)) {
        w.leave();
        stack.pop_back();
      }
      if (stack.back().first != parent) continue;
      auto fd = open_listing(root_, d);
      if (!fd) {
        // In a dry run a new directory is not there: nothing in it to delete.
        if (!options_.dry_run) errors->push_back(fd.error().message());
        continue;
      }
      if (auto st = w.enter(fd->get(), d); !st) {
        errors->push_back(st.error().message());
        continue;
      }
      stack.emplace_back(d, std::move(*fd));
    }
    int dir = stack.back().second.get();
    auto names = list(dir, d.empty() ? "." : d);
    if (!names) {
      errors->push_back(names.error().message());
      continue;
    }
    for (const auto& n : *names) {
      std::string rel = join(d, n);
      if (announced_.count(rel) || is_part_file(n)) continue;
      auto st = sys::fstatat(dir, n, AT_SYMLINK_NOFOLLOW, rel);
      if (!st) continue;  // gone meanwhile
      if (options_.backups && options_.backups->is_backup(n, *st)) continue;
      if (w.excluded(rel, S_ISDIR(st->st_mode))) continue;
      (void)remove(w, dir, n, rel, errors);
    }
  }
  while (!stack.empty()) {
    w.leave();
    stack.pop_back();
  }
  return deleted_;
}

}  // namespace ferry
