// An image as a build holds it between steps: the image config (docker's
// schema: architecture, os, config{Env, Cmd, ...}, rootfs.diff_ids,
// history), the manifest's layer descriptors and the unpacked layer
// directories, lowest first, and the cache chain (build_cache.h) that led
// to it. A stage starts from an image of the store, from scratch, or from
// an earlier stage; write_image() stores the result as an OCI image.
// Thread-safety: plain value; the functions as ImageStore.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_packer.h"

namespace berth::build {

struct StageImage {
  nlohmann::json config;                // the whole image config
  std::vector<nlohmann::json> layers;   // manifest layer descriptors, lowest first
  std::vector<std::string> layer_dirs;  // unpacked layers, lowest first
  std::string chain;                    // the cache key of everything so far
  // When the newest step was made: config-only steps and the image take
  // it, so a build wholly from the cache gives the same image id.
  std::string last_created = "1970-01-01T00:00:00Z";

  // The "config" member (Env, Cmd, ...), made an object if missing.
  nlohmann::json& settings();
  // Adds a history entry dated last_created; `empty_layer`: no layer came of it.
  void record(const std::string& created_by, bool empty_layer);
  // Appends a packed layer made at `created` (an empty one adds only history).
  void add_layer(const PackedLayer& layer, const std::string& dir, const std::string& created_by,
                 const std::string& created);
};

// FROM scratch: no layers, linux/amd64, no settings.
StageImage scratch_image();
// FROM an image of the store (a name or an id prefix). Its config settings
// a build reads (Env, Cmd, Entrypoint, Shell, OnBuild, User, WorkingDir,
// StopSignal, Labels, ExposedPorts, Volumes, Healthcheck) must have the
// image spec's types, or it is an error naming the image and the field.
base::Result<StageImage> stored_image(ImageStore& store, const std::string& name_or_id);
// Stores the config (dated last_created) and an OCI manifest; returns the
// manifest digest. The
// image id (docker's) is the config digest: `config_digest` gets it.
base::Result<std::string> write_image(ImageStore& store, const StageImage& image,
                                      std::string& config_digest);

}  // namespace berth::build
