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

Status remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return fail(Error::sys(ec.value(), "remove", path));
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

uint64_t size_below(int dir, const std::string& what, std::set<std::pair<dev_t, ino_t>>& seen) {
  uint64_t total = 0;
  auto names = list_dir(dir, what);
  if (!names) return 0;
  for (const auto& name : *names) {
    auto st = sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW, what);
    if (!st) continue;
    if (S_ISREG(st->st_mode) && seen.emplace(st->st_dev, st->st_ino).second) {
      total += static_cast<uint64_t>(st->st_size);
    } else if (S_ISDIR(st->st_mode)) {
      auto sub = sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, what);
      if (sub) total += size_below(sub->get(), what, seen);
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
  UniqueFd dir = TRY(sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  std::set<std::pair<dev_t, ino_t>> seen;
  return size_below(dir.get(), path, seen);
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
