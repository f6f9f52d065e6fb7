// A build step's root: the stage's layers (lowest first) under a new, empty
// upper directory, mounted with overlayfs in a scratch directory of
// <root>/build/ (the layer store's filesystem, so the upper directory can
// become a layer by a rename). commit() unmounts it and packs the upper
// directory (layer_packer.h); the guard unmounts and deletes whatever is
// left, on every path. A build killed mid-step leaves its directory with
// a free life lock; sweep_stale_steps() takes those back.
// Thread-safety: one owner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/dirs.h"
#include "base/error.h"
#include "base/file_lock.h"
#include "berth/container/container_record.h"
#include "berth/container/container_resources.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_packer.h"

namespace berth::build {

class StepRoot {
 public:
  static base::Result<StepRoot> mount(const std::string& berth_root,
                                      const std::vector<std::string>& layer_dirs);
  StepRoot(StepRoot&&) noexcept = default;
  StepRoot& operator=(StepRoot&&) = delete;
  ~StepRoot() = default;

  // The scratch directory (bundle/, upper/, ...) and the mounted root in it.
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_.path() + "/bundle/rootfs"; }
  // A name for the runtime: "<16 hex digits>-build", the hex of its directory
  // (so its first 12 characters, which bridge veths are named after, are its own).
  const std::string& id() const { return id_; }
  // Unmounts, then packs the upper directory as a layer.
  base::Result<PackedLayer> commit(ImageStore& store, LayerCompression compression);

 private:
  StepRoot(base::OwnedDir dir, base::LifeLock life, std::string id)
      : dir_(std::move(dir)), life_(std::move(life)), id_(std::move(id)) {}
  // Declared in this order so the root is unmounted before the directory goes.
  base::OwnedDir dir_;
  base::LifeLock life_;
  std::string id_;
  std::optional<RootMount> mount_;
};

// Takes back step directories whose build is gone: the runtime container a
// killed RUN left (its processes and cgroup), its bridge attachment, the
// mount, the directory.
void sweep_stale_steps(const Paths& paths);

}  // namespace berth::build
