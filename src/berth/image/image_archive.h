// `berth save` and `berth load`: images to and from one tar file.
// save writes a tar that is at once an OCI image layout (oci-layout,
// index.json, blobs/sha256/<hex>) and a docker-archive (manifest.json whose
// Config and Layers name those same blobs), as docker 25 does, so docker,
// podman, skopeo and berth all load it. Blobs go in as stored, with their
// digests unchanged. The file appears under its name only when complete.
// load reads either kind, plain or compressed, from a file or "-": entries
// are unpacked into a private directory (names with ".." or "/" refused),
// every blob is verified against its digest and every layer against its diff
// id, and the images get the names the archive gives them (docker's
// RepoTags; an OCI index's io.containerd.image.name or
// org.opencontainers.image.ref.name).
// Thread-safety: as ImageStore.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/image/image_store.h"

namespace berth {

base::Status save_images(ImageStore& store, const std::vector<std::string>& images,
                         const std::string& out_path);
// Returns the names of the images loaded.
base::Result<std::vector<std::string>> load_images(ImageStore& store, const std::string& in_path);

}  // namespace berth
