// An image as `docker image inspect` shows one (Engine API ImageInspect):
// Id, RepoTags, RepoDigests, Created, Author, Config (the image config's
// "config"), Architecture, Os, Variant, Size, RootFS, GraphDriver,
// Metadata; and berth's own ManifestDigest, Manifest and LayerDirs.
// Thread-safety: reads the store, as ImageStore does.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/image/image_store.h"

namespace berth {

base::Result<nlohmann::json> inspect_image(ImageStore& store, const std::string& name_or_id);

}  // namespace berth
