#include "berth/build/step_root.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"

namespace berth::build {
namespace {

std::string build_dir(const std::string& berth_root) {
  return berth_root + "/build";
}

// A step's container id, from its directory's name ("step-" and a unique
// suffix): the suffix first, so that what berth names after an id's first
// 12 characters (a bridge veth, "vb<id>") is unique to the step too.
std::string step_id(const std::string& dir_name) {
  return dir_name.substr(dir_name.rfind('-') + 1) + "-build";
}

}  // namespace

base::Result<StepRoot> StepRoot::mount(const std::string& berth_root,
                                       const std::vector<std::string>& layer_dirs) {
  TRY_STATUS(base::make_dirs(build_dir(berth_root)));
  base::OwnedDir dir = TRY(base::OwnedDir::make(build_dir(berth_root), "step-"));
  base::LifeLock life = TRY(base::LifeLock::take(dir.path() + "/life.lock", "the build step"));
  for (const char* sub : {"bundle/rootfs", "upper", "work", "empty"})
    TRY_STATUS(base::make_dirs(dir.path() + "/" + sub));
  // overlayfs wants a lower directory: an empty one stands for scratch.
  std::string lower;
  for (auto it = layer_dirs.rbegin(); it != layer_dirs.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + *it;
  if (lower.empty()) lower = dir.path() + "/empty";
  TRY_STATUS(base::replace_file(dir.path() + "/lowerdirs", lower));
  std::string id = step_id(dir.path());
  StepRoot root(std::move(dir), std::move(life), id);
  root.mount_.emplace(TRY(RootMount::mount(root.dir(), id)));
  return root;
}

base::Result<PackedLayer> StepRoot::commit(ImageStore& store, LayerCompression compression) {
  mount_.reset();  // unmounted: the upper directory is quiet now
  return pack_layer(store, dir() + "/upper", compression);
}

void sweep_stale_steps(const Paths& paths) {
  auto fd = base::sys::open(build_dir(paths.root), O_PATH | O_DIRECTORY);
  if (!fd) return;
  auto names = base::list_dir(fd->get(), build_dir(paths.root));
  if (!names) return;
  for (const auto& name : *names) {
    std::string dir = build_dir(paths.root) + "/" + name;
    // A step still being set up has no life lock yet: leave what is new.
    if (name.rfind("step-", 0) != 0 || base::LifeLock::held(dir + "/life.lock") ||
        !base::path_exists(dir + "/lowerdirs"))
      continue;
    (void)release_runtime(paths, step_id(name));
    (void)release_network(paths, step_id(name));  // a RUN on the bridge
    (void)release_root(dir);
    (void)base::remove_tree(dir);
  }
}

}  // namespace berth::build
