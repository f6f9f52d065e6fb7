#include "ferry/tree_walk.h"

#include <linux/openat2.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"

namespace ferry {
namespace sys = base::sys;

TreeWalk::TreeWalk(std::vector<WalkRoot> roots, bool recursive)
    : roots_(std::move(roots)), recursive_(recursive) {}

TreeWalk::~TreeWalk() {
  for (Level& l : stack_) closedir(l.dir);
}

void TreeWalk::set_filter(const sync::FilterRules* rules, bool contents) {
  filter_.emplace(*rules, sync::FilterSide::sender);
  contents_ = contents;
}

std::string TreeWalk::rule_path(const std::string& path_in_root) const {
  if (contents_) return path_in_root;
  const WalkRoot& root = roots_[next_root_ - 1];
  return path_in_root.empty() ? root.send_as : root.send_as + "/" + path_in_root;
}

void TreeWalk::pop_level() {
  closedir(stack_.back().dir);
  stack_.pop_back();
  if (filter_) filter_->leave();
}

namespace {
void fill_times(Entry& e, const struct stat& st) {
  e.mode = st.st_mode & 07777;
  e.mtime_sec = st.st_mtim.tv_sec;
  e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  if (geteuid() == 0) {
    e.flags |= kEntryOwner;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
  }
}
}  // namespace

base::Result<std::optional<WalkItem>> TreeWalk::visit(int parent_fd, const std::string& name,
                                                      const std::string& path_in_root) {
  const WalkRoot& root = roots_[next_root_ - 1];
  std::string shown = path_in_root.empty() ? root.send_as : root.send_as + "/" + path_in_root;
  WalkItem item;
  item.root_index = next_root_ - 1;
  item.path_in_root = path_in_root;
  item.entry.path = shown;
  struct stat st = TRY(sys::fstatat(parent_fd, name, AT_SYMLINK_NOFOLLOW, shown));
  bool is_root_contents = contents_ && path_in_root.empty();
  if (filter_ && !is_root_contents &&
      filter_->excluded(rule_path(path_in_root), S_ISDIR(st.st_mode)))
    return std::optional<WalkItem>();
  fill_times(item.entry, st);
  if (S_ISREG(st.st_mode) && hard_links_ && st.st_nlink > 1) {
    auto [at, first] = first_names_.try_emplace({st.st_dev, st.st_ino}, shown);
    if (!first) {  // another name of a file already announced
      item.entry.kind = EntryKind::kHardLink;
      item.entry.link_target = at->second;
      return std::optional<WalkItem>(std::move(item));
    }
    item.entry.flags |= kEntryHasLinks;
  }
  if (xattrs_ && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    item.xattrs = TRY(read_xattrs_at(parent_fd, name, xattrs_privileged_, shown));
  if (S_ISREG(st.st_mode) && lazy_open_) {
    item.entry.kind = EntryKind::kFile;
    item.entry.size = static_cast<uint64_t>(st.st_size);
    if (static_cast<uint64_t>(st.st_blocks) * 512 < item.entry.size)
      item.entry.flags |= kEntrySparse;
  } else if (S_ISREG(st.st_mode)) {
    item.file = TRY(sys::openat(parent_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, shown));
    st = TRY(sys::fstat(item.file.get(), shown));  // the file we will actually read
    if (!S_ISREG(st.st_mode)) return base::fail_msg(fmt::format("{}: replaced during walk", shown));
    fill_times(item.entry, st);
    item.entry.kind = EntryKind::kFile;
    item.entry.size = static_cast<uint64_t>(st.st_size);
    if (static_cast<uint64_t>(st.st_blocks) * 512 < item.entry.size)
      item.entry.flags |= kEntrySparse;
  } else if (S_ISDIR(st.st_mode)) {
    if (!recursive_)
      return base::fail_msg(fmt::format("{}: is a directory (use -r to copy trees)", shown));
    item.entry.kind = EntryKind::kDir;
    auto fd = TRY(sys::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, shown));
    if (filter_) TRY_STATUS(filter_->enter(fd.get(), rule_path(path_in_root)));
    auto dir = sys::fdopendir(fd.get(), shown);
    if (!dir) {
      if (filter_) filter_->leave();
      return base::fail(std::move(dir).error());
    }
    stack_.push_back({*dir, fd.release(), path_in_root});
  } else if (S_ISLNK(st.st_mode)) {
    item.entry.kind = EntryKind::kSymlink;
    item.entry.link_target = TRY(sys::readlinkat(parent_fd, name, shown));
    if (item.entry.link_target.size() > kMaxLinkTarget)
      return base::fail_msg(fmt::format("{}: link target too long", shown));
  } else {
    return base::fail_msg(fmt::format("{}: not a regular file, directory or link; skipped", shown));
  }
  return std::optional<WalkItem>(std::move(item));
}

base::Result<std::optional<WalkItem>> TreeWalk::next() {
  while (!stack_.empty()) {
    Level& top = stack_.back();
    auto read = sys::readdir(top.dir, top.path_in_root);
    struct dirent* de = read ? *read : nullptr;
    if (!de) {  // the end, or an error
      pop_level();
      if (!read) return base::fail(std::move(read).error());
      continue;
    }
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    std::string child = top.path_in_root.empty() ? name : top.path_in_root + "/" + name;
    auto item = visit(top.fd, name, child);
    if (item && !*item) continue;  // excluded
    return item;
  }
  if (next_root_ >= roots_.size()) return std::optional<WalkItem>();
  WalkRoot& root = roots_[next_root_++];
  if (root.stream) {
    WalkItem item;
    item.root_index = next_root_ - 1;
    item.entry.kind = EntryKind::kFile;
    item.entry.flags = kEntryGrowing;
    item.entry.mode = 0644;
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    item.entry.mtime_sec = now.tv_sec;
    item.entry.mtime_nsec = static_cast<uint32_t>(now.tv_nsec);
    item.entry.path = root.send_as;
    item.file = std::move(root.stream);
    return std::optional<WalkItem>(std::move(item));
  }
  auto item = visit(root.parent.get(), root.name, "");
  if (item && !*item) return next();  // the root itself is excluded
  return item;
}

base::Result<base::UniqueFd> TreeWalk::reopen(size_t root_index,
                                              const std::string& path_in_root) const {
  const WalkRoot& root = roots_.at(root_index);
  std::string rel = path_in_root.empty() ? root.name : root.name + "/" + path_in_root;
  return sys::openat2(root.parent.get(), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0,
                      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, rel);
}

}  // namespace ferry
