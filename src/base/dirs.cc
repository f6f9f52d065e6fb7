#include "base/dirs.h"

#include <filesystem>
#include <system_error>

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

Result<uint64_t> file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  if (ec) return fail(Error::sys(ec.value(), "stat", path));
  return static_cast<uint64_t>(n);
}

}  // namespace base
