#include "base/dirs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
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

// One directory on a walk's way down: its names (read once), the next one
// to look at, and its (device, inode), which the walk must reach again
// when it comes back up through "..".
struct Level {
  std::vector<std::string> names;
  size_t next = 0;
  std::pair<dev_t, ino_t> id;
  int refills = 0;  // times the entry before `next` filled up again
};

Result<Level> level_of(int dir, std::string_view what) {
  struct stat st = TRY(sys::fstat(dir, what));
  return Level{TRY(list_dir(dir, what)), 0, {st.st_dev, st.st_ino}, 0};
}

// Opens the directory `name` in `dir` to walk into: never through a
// symlink or onto another mount, and only the directory fstatat saw.
Result<UniqueFd> enter(int dir, const std::string& name, const struct stat& seen,
                       std::string_view what) {
  UniqueFd sub =
      TRY(sys::openat2(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                       RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, what));
  struct stat st = TRY(sys::fstat(sub.get(), what));
  if (st.st_dev != seen.st_dev || st.st_ino != seen.st_ino)
    return fail(Error::msg(fmt::format("{}: {} changed while it was walked", what, name)));
  return sub;
}

// Back up from `dir` to the parent `way` now ends with.
Status leave(UniqueFd& dir, const std::vector<Level>& way, std::string_view what) {
  dir = TRY(sys::openat(dir.get(), "..", O_RDONLY | O_DIRECTORY, 0, what));
  struct stat up = TRY(sys::fstat(dir.get(), what));
  if (std::make_pair(up.st_dev, up.st_ino) != way.back().id)
    return fail(Error::msg(fmt::format("{}: the tree moved while it was walked", what)));
  return {};
}

// Empties the directory `dir` at any depth holding one directory fd at a
// time: a directory that is not empty is walked into and removed once the
// walk comes back up from it, so a tree deeper than the fd limit or
// PATH_MAX (a container can make one) goes like any other, and each
// directory is read once. Entries already gone are fine; a directory that
// keeps filling up again is an error after a few tries. `path` names the
// top in errors.
Status empty_directory(UniqueFd dir, const std::string& path) {
  constexpr int kMostRefills = 3;
  std::vector<Level> way;
  way.push_back(TRY(level_of(dir.get(), path)));
  for (;;) {
    if (way.back().next == way.back().names.size()) {
      way.pop_back();
      if (way.empty()) return {};
      TRY_STATUS(leave(dir, way, path));
      // The directory just emptied: remove it, or walk it again if it
      // filled up meanwhile.
      Level& parent = way.back();
      const std::string& name = parent.names[parent.next - 1];
      auto gone = sys::unlinkat(dir.get(), name, AT_REMOVEDIR, fmt::format("{}: {}", path, name));
      if (gone || gone.error().code() == ENOENT) {
        parent.refills = 0;
        continue;
      }
      if (gone.error().code() != ENOTEMPTY || ++parent.refills > kMostRefills)
        return fail(std::move(gone).error());
      --parent.next;
      continue;
    }
    Level& level = way.back();
    const std::string name = level.names[level.next++];
    std::string what = fmt::format("{}: {}", path, name);
    auto st = sys::fstatat(dir.get(), name, AT_SYMLINK_NOFOLLOW, what);
    if (!st && st.error().code() == ENOENT) continue;
    if (!st) return fail(std::move(st).error());
    if (!S_ISDIR(st->st_mode)) {
      auto gone = sys::unlinkat(dir.get(), name, 0, what);
      if (!gone && gone.error().code() != ENOENT) return gone;
      continue;
    }
    auto gone = sys::unlinkat(dir.get(), name, AT_REMOVEDIR, what);
    if (gone || gone.error().code() == ENOENT) continue;
    if (gone.error().code() != ENOTEMPTY && gone.error().code() != EEXIST)
      return fail(std::move(gone).error());
    dir = TRY(enter(dir.get(), name, *st, what));
    way.push_back(TRY(level_of(dir.get(), what)));
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
// walked as empty_directory() walks (one directory fd at a time, each
// directory read once, never onto another mount). Entries that go while it
// counts are skipped; if the tree moves under it, what was counted so far.
uint64_t size_below(UniqueFd dir, const std::string& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t total = 0;
  std::vector<Level> way;
  auto top = level_of(dir.get(), path);
  if (!top) return 0;
  way.push_back(std::move(*top));
  while (!way.empty()) {
    Level& level = way.back();
    if (level.next == level.names.size()) {
      way.pop_back();
      if (!way.empty() && !leave(dir, way, path)) break;
      continue;
    }
    const std::string name = level.names[level.next++];
    auto st = sys::fstatat(dir.get(), name, AT_SYMLINK_NOFOLLOW, path);
    if (!st) continue;
    if (S_ISREG(st->st_mode) && seen.emplace(st->st_dev, st->st_ino).second) {
      total += static_cast<uint64_t>(st->st_size);
    } else if (S_ISDIR(st->st_mode)) {
      auto sub = enter(dir.get(), name, *st, path);
      if (!sub) continue;
      auto below = level_of(sub->get(), path);
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
