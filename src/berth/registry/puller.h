// `berth pull`: an image from a registry into the image store. The manifest
// (or the platform's entry of an index) is fetched and checked, then the
// config, then the layers, several at once. Each layer is streamed once:
// the download is hashed and stored as a blob while the same bytes flow
// through a pipe into the unpacker (decompress, hash the diff id, extract).
// A layer is kept only when its blob digest, size and diff id all match; the
// name is set last, so a pull killed at any moment leaves the old name (or
// none) and only verified blobs and layers, which the next pull reuses.
// Thread-safety: as ImageStore (one pull per process; processes may pull at once).
#pragma once

#include <string>

#include "base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/manifest.h"
#include "berth/image/reference.h"
#include "berth/registry/pull_progress.h"
#include "berth/registry/registry_client.h"

namespace berth {

struct PullOptions {
  RegistryOptions registry;
  Platform platform = host_platform();
  int parallel_layers = 3;
  PullProgress* progress = nullptr;
};

struct PullResult {
  std::string name;             // the full reference the image is now known by
  std::string manifest_digest;  // of the platform manifest
  std::string index_digest;     // when the reference named an index
  std::string image_id;         // config digest
};

base::Result<PullResult> pull_image(ImageStore& store, const Reference& ref,
                                    const PullOptions& options);

}  // namespace berth
