#include "berth/build/mount_stubs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "base/dirs.h"
#include "base/sys.h"
#include "berth/build/text.h"

namespace berth::build {
namespace {

namespace sys = base::sys;

bool exists_in_root(int root_fd, const std::string& rel) {
  return static_cast<bool>(sys::openat2(root_fd, rel, O_PATH | O_NOFOLLOW, 0, RESOLVE_IN_ROOT));
}

}  // namespace

MountStubs MountStubs::missing(int root_fd, const std::vector<std::string>& targets) {
  std::set<std::string> found;
  for (const auto& target : targets) {
    std::string rel = clean_path("/" + target);
    if (rel == "/") continue;
    rel.erase(0, 1);
    // The target and each parent of it that is missing now.
    for (std::string p = rel; !p.empty();) {
      if (exists_in_root(root_fd, p)) break;
      found.insert(p);
      auto slash = p.rfind('/');
      p = slash == std::string::npos ? "" : p.substr(0, slash);
    }
  }
  MountStubs s;
  s.paths_.assign(found.begin(), found.end());  // a parent sorts before its children
  return s;
}

base::Status MountStubs::remove_empty(int root_fd) const {
  for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) {
    const std::string& rel = *it;
    auto slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "." : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    auto dir = sys::openat2(root_fd, parent, O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT, rel);
    if (!dir) continue;  // gone, or no longer a directory: nothing of ours there
    auto st = sys::fstatat(dir->get(), name, AT_SYMLINK_NOFOLLOW, rel);
    if (!st) continue;
    if (S_ISDIR(st->st_mode)) {
      base::UniqueFd d =
          TRY(sys::openat(dir->get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, rel));
      if (!TRY(base::list_dir(d.get(), rel)).empty()) continue;
      TRY_STATUS(sys::unlinkat(dir->get(), name, AT_REMOVEDIR, rel));
    } else if (S_ISREG(st->st_mode) && st->st_size == 0) {
      TRY_STATUS(sys::unlinkat(dir->get(), name, 0, rel));
    }
  }
  return {};
}

}  // namespace berth::build
