#include "base/dirs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace base {

Status make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(Error::sys(ec.value(), "mkdir", path));
  return {};
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

namespace {

// Empties the directory `dir` (its entries, and theirs, at any depth) holding
// one directory fd at a time: it goes down into a directory that is not
// empty and back up through ".." once that one is, so a tree deeper than
// the fd limit or PATH_MAX (a container can make one) goes like any other.
// `path` names the top in errors.
Status empty_directory(UniqueFd dir, const std::string& path) {
  // The (device, inode) of each directory on the way down: coming back up
  // through ".." must reach the one we came from, or the tree moved.
  std::vector<std::pair<dev_t, ino_t>> way;
  auto here = [&]() -> Result<std::pair<dev_t, ino_t>> {
    struct stat st = TRY(sys::fstat(dir.get(), path));
    return std::make_pair(st.st_dev, st.st_ino);
  };
  way.push_back(TRY(here()));
  for (;;) {
    std::string below;  // a directory here that is not empty yet
    for (const auto& name : TRY(list_dir(dir.get(), path))) {
      auto st = TRY(sys::fstatat(dir.get(), name, AT_SYMLINK_NOFOLLOW, path));
      if (!S_ISDIR(st.st_mode)) {
        TRY_STATUS(sys::unlinkat(dir.get(), name, 0, path));
        continue;
      }
      auto gone = sys::unlinkat(dir.get(), name, AT_REMOVEDIR, path);
      if (gone || gone.error().code() == ENOENT) continue;
      if (gone.error().code() != ENOTEMPTY && gone.error().code() != EEXIST)
        return fail(std::move(gone).error());
      below = name;
      break;
    }
    if (!below.empty()) {
      dir = TRY(sys::openat(dir.get(), below, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, path));
      way.push_back(TRY(here()));
    } else if (way.size() > 1) {  // empty now: its parent removes it on the next pass
      dir = TRY(sys::openat(dir.get(), "..", O_RDONLY | O_DIRECTORY, 0, path));
      way.pop_back();
      if (TRY(here()) != way.back())
        return fail(Error::msg(fmt::format("{}: the tree moved while it was being removed", path)));
    } else {
      return {};
    }
  }
}

}  // namespace

Status remove_tree(const std::string& path) {
  auto st = sys::fstatat(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, path);
  if (!st) return st.error().code() == ENOENT ? Status{} : fail(std::move(st).error());
  if (S_ISDIR(st->st_mode)) {
    UniqueFd top = TRY(sys::openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, path));
    TRY_STATUS(empty_directory(std::move(top), path));
  }
  auto gone = sys::unlinkat(AT_FDCWD, path, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0, path);
  if (!gone && gone.error().code() != ENOENT) return gone;
  return {};
}

Result<std::vector<std::string>> list_dir(int dir_fd, std::string_view what) {
  UniqueFd fd = TRY(sys::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY, 0, what));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(TRY(sys::fdopendir(fd.get(), what)), ::closedir);
  (void)fd.release();  // the DIR owns it now
  std::vector<std::string> names;
  while (struct dirent* e = TRY(sys::readdir(dir.get(), what))) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// The bytes of the regular files below the directory `dir`, each inode once,
// walked depth first with one directory fd at a time: each level keeps its
// names and place, and the walk comes back up through ".." (checked against
// the directory it came from), so no depth of tree runs out of fds.
// Entries that go while it counts are skipped.
Result<uint64_t> size_below(UniqueFd dir, const std::string& path) {
  struct Level {
    std::vector<std::string> names;
    size_t next = 0;
    std::pair<dev_t, ino_t> id;
  };
  auto level_of = [&](int fd) -> Result<Level> {
    struct stat st = TRY(sys::fstat(fd, path));
    return Level{TRY(list_dir(fd, path)), 0, {st.st_dev, st.st_ino}};
  };
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t total = 0;
  std::vector<Level> way;
  way.push_back(TRY(level_of(dir.get())));
  while (!way.empty()) {
    Level& level = way.back();
    if (level.next == level.names.size()) {
      way.pop_back();
      if (way.empty()) break;
      dir = TRY(sys::openat(dir.get(), "..", O_RDONLY | O_DIRECTORY, 0, path));
      struct stat up = TRY(sys::fstat(dir.get(), path));
      if (std::make_pair(up.st_dev, up.st_ino) != way.back().id)
        return fail(Error::msg(fmt::format("{}: the tree moved while it was measured", path)));
      continue;
    }
    const std::string& name = level.names[level.next++];
    auto st = sys::fstatat(dir.get(), name, AT_SYMLINK_NOFOLLOW, path);
    if (!st) continue;
    if (S_ISREG(st->st_mode) && seen.emplace(st->st_dev, st->st_ino).second) {
      total += static_cast<uint64_t>(st->st_size);
    } else if (S_ISDIR(st->st_mode)) {
      auto sub = sys::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, path);
      if (!sub) continue;
      auto below = level_of(sub->get());
      if (!below) continue;
      dir = std::move(*sub);
      way.push_back(std::move(*below));
    }
  }
  return total;
}

}  // namespace

Result<uint64_t> tree_size(const std::string& path) {
  auto st = sys::fstatat(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, path);
  if (!st) return st.error().code() == ENOENT ? Result<uint64_t>(0) : fail(std::move(st).error());
  if (S_ISREG(st->st_mode)) return static_cast<uint64_t>(st->st_size);
  if (!S_ISDIR(st->st_mode)) return 0;
  return size_below(TRY(sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)), path);
}

Result<UniqueFd> open_checked(int dir_fd, const std::string& name, bool directory,
                              std::string_view what) {
  UniqueFd path = TRY(sys::openat(dir_fd, name, O_PATH | O_NOFOLLOW, 0, what));
  struct stat st = TRY(sys::fstat(path.get(), what));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return fail(Error::msg(fmt::format("{}: not a {} (changed meanwhile?)", what,
                                       directory ? "directory" : "regular file")));
  return sys::open(fmt::format("/proc/self/fd/{}", path.get()),
                   O_RDONLY | O_NOCTTY | (directory ? O_DIRECTORY : 0));
}

Result<OwnedDir> OwnedDir::make(const std::string& parent, const std::string& prefix) {
  std::string path = parent + "/" + prefix + TRY(sys::random_hex(8));
  TRY_STATUS(sys::mkdirat(AT_FDCWD, path, 0700, path));
  return OwnedDir(std::move(path));
}

OwnedDir::OwnedDir(OwnedDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

OwnedDir::~OwnedDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

Result<uint64_t> file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  if (ec) return fail(Error::sys(ec.value(), "stat", path));
  return static_cast<uint64_t>(n);
}

}  // namespace base
