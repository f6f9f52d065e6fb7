#include "base/dirs.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

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
