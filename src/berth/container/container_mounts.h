// A container's binds and volumes, from -v, --mount and the image's VOLUMEs,
// planned at create: each volume found or made (volumes.h), each bind's
// host path checked, and the result kept twice, as OCI mounts for the
// spec and as docker's Mounts for the record (which is what marks a volume
// in use). An image's VOLUME that no -v or --mount covers gets an anonymous
// volume, as in docker. --mount type=tmpfs comes back in --tmpfs's form.
// Thread-safety: safe across processes while `lock` is held (volumes.h):
// keep the plan, and so the lock, until the record is saved.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file_lock.h"
#include "berth/container/container_spec.h"

namespace berth {

struct MountPlan {
  nlohmann::json oci = nlohmann::json::array();     // {"destination","type","source","options"}
  nlohmann::json docker = nlohmann::json::array();  // inspect's Mounts
  std::vector<std::string> tmpfs;                   // PATH:OPTIONS, for RunOptions::tmpfs
  std::optional<base::FileLock> lock;               // held when any volume is used
};

// `image_config` is the image's config blob (its VOLUMEs under config.Volumes).
base::Result<MountPlan> plan_mounts(const std::string& root, const RunOptions& o,
                                    const nlohmann::json& image_config);

// At start, with the root mounted at `rootfs`: each volume in the record's
// Mounts that is empty is filled from the image (volumes.h fill_volume),
// unless it was mounted with nocopy.
base::Status fill_volumes(const std::string& root, const nlohmann::json& mounts,
                          const std::string& rootfs);

}  // namespace berth
