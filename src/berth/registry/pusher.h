// `berth push`: an image of the store to a registry, as docker push does it.
// The image named by the reference is sent as it is stored: each layer blob
// and the config that the registry lacks (asked with HEAD) is uploaded,
// several at once, checked against its descriptor's size first; then the
// manifest's exact bytes under the tag, so the registry's digest is the
// local manifest digest. The digest is then recorded as the image's
// repository digest (docker's RepoDigests). A push stopped at any moment
// leaves whole blobs in the registry and no tag pointing at missing ones.
// Thread-safety: as ImageStore.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/reference.h"
#include "berth/registry/registry_client.h"

namespace berth {

struct PushOptions {
  RegistryOptions registry;
  int parallel_blobs = 3;
  // Told each blob's outcome: its short digest and "Pushed" or "Layer already exists".
  std::function<void(const std::string& id, const std::string& what)> progress;
};

struct PushResult {
  std::string digest;  // the manifest's, as the registry knows it
  uint64_t size = 0;   // the manifest's bytes
};

// Pushes the local image `ref` names (a tag, not a digest) to ref's registry.
base::Result<PushResult> push_image(ImageStore& store, const Reference& ref,
                                    const PushOptions& options);

}  // namespace berth
