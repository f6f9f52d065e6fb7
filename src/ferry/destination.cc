#include "ferry/destination.h"

#include <linux/openat2.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace sys = base::sys;

base::Result<base::UniqueFd> open_dir_beneath(int root, const std::string& rel) {
  return sys::openat2(root, rel.empty() ? "." : rel, O_PATH | O_DIRECTORY, 0,
                      RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, rel.empty() ? "." : rel);
}

namespace {
base::Result<base::UniqueFd> open_dir(int base_fd, const std::string& path, bool confined) {
  if (confined) return open_dir_beneath(base_fd, path);
  return sys::openat(base_fd, path.empty() ? "." : path, O_PATH | O_DIRECTORY, 0, path);
}
}  // namespace

base::Result<Destination> resolve_destination(int base_fd, const std::string& target,
                                              size_t source_count, bool confined) {
  Destination d;
  d.shown = target.empty() ? "." : target;
  auto as_dir = open_dir(base_fd, target, confined);
  if (as_dir) {
    d.dir = std::move(*as_dir);
    return d;
  }
  int code = as_dir.error().code();
  if (code != ENOENT && code != ENOTDIR)
    return base::fail(std::move(as_dir).error().context("target"));
  if (source_count > 1)
    return base::fail_msg(
        fmt::format("target {}: not a directory (needed for several sources)", d.shown));
  if (!target.empty() && target.back() == '/')
    return base::fail_msg(fmt::format("target {}: no such directory", d.shown));
  auto [parent, leaf] = split_parent(target);
  if (leaf.empty() || leaf == "." || leaf == "..")
    return base::fail_msg(fmt::format("target {}: not a usable name", d.shown));
  if (parent.empty() && !target.empty() && target.front() == '/') parent = "/";
  d.dir = TRY_CTX(open_dir(base_fd, parent, confined), "target's parent directory");
  d.rename_root = leaf;
  return d;
}

}  // namespace ferry
