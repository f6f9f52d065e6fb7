#include "berth/container/container_changes.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"

namespace berth {
namespace {
namespace sys = base::sys;

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

class ChangeWalk {
 public:
  ChangeWalk(std::vector<base::UniqueFd> lowers, std::set<std::string> mount_points)
      : lowers_(std::move(lowers)), mount_points_(std::move(mount_points)) {}

  struct Seen {
    std::vector<Change> changes;
    bool mount_points = false;  // something below was left out as a mount point
  };

  base::Result<Seen> directory(int dir, const std::string& rel) {
    if (std::count(rel.begin(), rel.end(), '/') >= 256)
      return base::fail_msg(fmt::format("/{}: deeper than 256 directories", rel));
    Seen seen;
    for (const std::string& name : TRY(base::list_dir(dir, "/" + rel))) {
      std::string child = rel.empty() ? name : fmt::format("{}/{}", rel, name);
      std::string path = "/" + child;
      struct stat st = TRY(sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW, path));
      if (is_whiteout(st)) {
        seen.changes.push_back({'D', path});
        continue;
      }
      if (mount_points_.count(path)) {
        seen.mount_points = true;
        continue;
      }
      bool in_image = in_layers(child);
      if (!S_ISDIR(st.st_mode)) {
        seen.changes.push_back({in_image ? 'C' : 'A', path});
        continue;
      }
      base::UniqueFd sub =
          TRY(sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, path));
      Seen below = TRY(directory(sub.get(), child));
      seen.mount_points = seen.mount_points || below.mount_points;
      // A directory made only to hold mount points is the engine's, not the container's.
      bool report =
          in_image ? !below.changes.empty() : !(below.changes.empty() && below.mount_points);
      if (report) seen.changes.push_back({in_image ? 'C' : 'A', path});
      for (auto& c : below.changes) seen.changes.push_back(std::move(c));
    }
    return seen;
  }

 private:
  // Whether the topmost layer that has `rel` has it as a file (not a whiteout).
  bool in_layers(const std::string& rel) {
    for (const auto& layer : lowers_) {
      auto fd = sys::openat2(layer.get(), rel, O_PATH | O_NOFOLLOW, 0,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, rel);
      if (!fd) continue;
      auto st = sys::fstat(fd->get(), rel);
      return st && !is_whiteout(*st);
    }
    return false;
  }

  std::vector<base::UniqueFd> lowers_;
  std::set<std::string> mount_points_;
};

}  // namespace

base::Result<std::vector<Change>> container_changes(const std::string& dir) {
  std::vector<base::UniqueFd> lowers;
  std::string lower = TRY(base::read_text(dir + "/lowerdirs"));
  for (size_t start = 0; start < lower.size();) {
    size_t colon = lower.find(':', start);
    std::string layer = lower.substr(start, colon == std::string::npos ? colon : colon - start);
    lowers.push_back(TRY(sys::open(layer, O_PATH | O_DIRECTORY)));
    start = colon == std::string::npos ? lower.size() : colon + 1;
  }
  std::set<std::string> mount_points;
  auto spec = nlohmann::json::parse(
      TRY(base::read_text_capped(dir + "/bundle/config.json", size_t{16} << 20)), nullptr, false);
  if (spec.is_object() && spec.contains("mounts") && spec["mounts"].is_array())
    for (const auto& m : spec["mounts"])
      if (m.is_object() && m.contains("destination") && m["destination"].is_string())
        mount_points.insert(m["destination"].get<std::string>());
  base::UniqueFd upper = TRY(sys::open(dir + "/upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  ChangeWalk walk(std::move(lowers), std::move(mount_points));
  auto seen = TRY(walk.directory(upper.get(), ""));
  std::sort(seen.changes.begin(), seen.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return seen.changes;
}

}  // namespace berth
