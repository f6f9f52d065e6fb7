#include "ferry/xattrs.h"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"

namespace ferry {
namespace sys = base::sys;
namespace {

base::Result<Xattrs> values_of(const std::vector<std::string>& names, bool privileged,
                               const std::string& shown, auto&& get) {
  Xattrs out;
  for (const auto& n : names) {
    if (!xattr_carried(n, privileged)) continue;
    auto v = TRY(get(n));
    if (v) out.emplace_back(n, std::move(*v));  // gone meanwhile: not there
  }
  if (out.size() > kMaxXattrs)
    return base::fail_msg(
        fmt::format("{}: {} extended attributes, at most {}", shown, out.size(), kMaxXattrs));
  size_t encoded = 6;  // XATTRS: id, count, then each name and value with their lengths
  for (const auto& [n, v] : out) encoded += 2 + n.size() + 4 + v.size();
  if (encoded > kMaxXattrsPayload)
    return base::fail(base::Error::coded(
        E2BIG, fmt::format("{}: extended attributes of {} bytes, at most {}; not sent", shown,
                           encoded, kMaxXattrsPayload)));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

bool xattr_carried(std::string_view name, bool privileged) {
  if (name.rfind("user.", 0) == 0) return name.size() > 5;
  if (!privileged) return false;
  return (name.rfind("trusted.", 0) == 0 && name.size() > 8) ||
         (name.rfind("security.", 0) == 0 && name.size() > 9);
}

base::Result<Xattrs> read_xattrs_at(int dir_fd, const std::string& name, bool privileged,
                                    const std::string& shown) {
  // The descriptor's directory by its /proc name; the l* calls do not
  // follow `name` itself.
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
  auto names = TRY(sys::llistxattr(path, shown));
  return values_of(names, privileged, shown,
                   [&](const std::string& n) { return sys::lgetxattr(path, n, shown); });
}

base::Result<Xattrs> read_xattrs(int fd, bool privileged, const std::string& shown) {
  auto names = TRY(sys::flistxattr(fd, shown));
  return values_of(names, privileged, shown,
                   [&](const std::string& n) { return sys::fgetxattr(fd, n, shown); });
}

base::Status write_xattrs(int fd, const Xattrs& have, const Xattrs& want, bool privileged,
                          const std::string& shown) {
  for (const auto& [name, value] : have) {
    bool wanted =
        std::binary_search(want.begin(), want.end(), std::pair{name, std::string()},
                           [](const auto& a, const auto& b) { return a.first < b.first; });
    if (!wanted) TRY_STATUS(sys::fremovexattr(fd, name, shown));
  }
  for (const auto& [name, value] : want) {
    if (!xattr_carried(name, privileged)) continue;  // never from a peer beyond its due
    auto same = std::find(have.begin(), have.end(), std::pair{name, value});
    if (same != have.end()) continue;
    TRY_STATUS(sys::fsetxattr(fd, name, value.data(), value.size(), 0, shown));
  }
  return {};
}

}  // namespace ferry
