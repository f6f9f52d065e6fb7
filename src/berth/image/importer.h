// `berth import`: a root filesystem tar (plain, gzip or zstd) becomes a
// one-layer OCI image with an empty default command, as docker import makes.
// Thread-safety: as ImageStore.
#pragma once

#include <string>

#include "base/error.h"
#include "berth/image/image_store.h"

namespace berth {

// `tar_path` may be "-" for standard input. Returns the image id (config digest).
base::Result<std::string> import_rootfs(ImageStore& store, const std::string& tar_path,
                                        const std::string& name);

}  // namespace berth
