#include "ferry/destination.h"

#include <linux/openat2.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

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

bool is_special(mode_t mode) {
  return S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) || S_ISSOCK(mode);
}

// The user's own target when it is a device or FIFO (through symlinks, as
// cp follows them): opened first and then looked at, so nothing can swap
// it between the look and the open; nullopt for anything else.
base::Result<std::optional<base::UniqueFd>> open_special_target(int base_fd,
                                                                const std::string& target) {
  // O_NONBLOCK only for the open: a FIFO with no reader fails at once
  // (ENXIO) instead of hanging; writes then block as usual. Opening a
  // regular file to write changes nothing in it.
  auto fd = sys::openat(base_fd, target, O_WRONLY | O_NOCTTY | O_NONBLOCK, 0, target);
  if (!fd) {
    int code = fd.error().code();
    if (code == ENXIO)
      return base::fail_msg(fmt::format(
          "target {}: a FIFO with no reader, or a socket: nothing to write to", target));
    return std::optional<base::UniqueFd>();  // missing, or the rename path will say why
  }
  struct stat st = TRY(sys::fstat(fd->get(), target));
  if (!is_special(st.st_mode)) return std::optional<base::UniqueFd>();
  TRY_STATUS(sys::set_nonblocking(fd->get(), false));
  return std::optional<base::UniqueFd>(std::move(*fd));
}

// A symlink the user named as the target is written through, as cp does:
// the copy replaces the file it leads to, never the link (/dev/stdout
// itself, say). Returns the path to use.
std::string through_symlink(int base_fd, const std::string& target) {
  auto st = sys::fstatat(base_fd, target, AT_SYMLINK_NOFOLLOW, target);
  if (!st || !S_ISLNK(st->st_mode) || base_fd != AT_FDCWD) return target;
  auto real = sys::realpath(target);
  return real ? *real : target;
}
}  // namespace

namespace {
// The directory a target is made in, and its name there.
base::Result<std::pair<std::string, std::string>> target_place(const std::string& path,
                                                               const std::string& shown) {
  auto [parent, leaf] = split_parent(path);
  if (leaf.empty() || leaf == "." || leaf == "..")
    return base::fail_msg(fmt::format("target {}: not a usable name", shown));
  if (parent.empty() && !path.empty() && path.front() == '/') parent = "/";
  return std::pair{parent, leaf};
}
}  // namespace

Destination Destination::standard_output() {
  Destination d;
  d.stream_fd = STDOUT_FILENO;
  d.shown = "standard output";
  return d;
}

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
  if (confined) {
    auto st = sys::fstatat(base_fd, target, AT_SYMLINK_NOFOLLOW, target);
    if (st && is_special(st->st_mode))
      return base::fail_msg(
          fmt::format("target {}: not a regular file or directory; not replaced", d.shown));
  } else if (auto special = TRY(open_special_target(base_fd, target))) {
    d.stream_file = std::move(*special);
    d.stream_fd = d.stream_file.get();
    return d;
  }
  if (!target.empty() && target.back() == '/')
    return base::fail_msg(fmt::format("target {}: no such directory", d.shown));
  auto place = TRY(target_place(confined ? target : through_symlink(base_fd, target), d.shown));
  d.dir = TRY_CTX(open_dir(base_fd, place.first, confined), "target's parent directory");
  d.rename_root = place.second;
  return d;
}

base::Result<Destination> resolve_sync_destination(int base_fd, const std::string& target,
                                                   bool confined, bool dry_run, bool one_source) {
  Destination d;
  d.shown = target.empty() ? "." : target;
  auto as_dir = open_dir(base_fd, target, confined);
  if (as_dir) {
    d.dir = std::move(*as_dir);
    return d;
  }
  int code = as_dir.error().code();
  bool undecided = one_source && !target.empty() && target.back() != '/';
  if (code != ENOENT && !(code == ENOTDIR && undecided))
    return base::fail(std::move(as_dir).error().context("target"));
  std::string path = target;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto [parent, leaf] = TRY(target_place(path, d.shown));
  auto up = TRY_CTX(open_dir(base_fd, parent, confined), "target's parent directory");
  if (undecided) {
    auto st = sys::fstatat(up.get(), leaf, AT_SYMLINK_NOFOLLOW, d.shown);
    if (st && is_special(st->st_mode))
      return base::fail_msg(
          fmt::format("target {}: not a regular file, link or directory; not replaced", d.shown));
    d.dir = std::move(up);
    d.undecided_leaf = leaf;
    return d;
  }
  if (dry_run) {
    d.dir = std::move(up);
    d.missing = true;
    return d;
  }
  auto made = sys::mkdirat(up.get(), leaf, 0755, d.shown);
  if (!made && made.error().code() != EEXIST) return base::fail(std::move(made).error());
  d.made = static_cast<bool>(made);
  d.dir = TRY_CTX(open_dir(up.get(), leaf, /*confined=*/true), "target");
  return d;
}

}  // namespace ferry
