#include "berth/build/stage_image.h"

#include <algorithm>

#include <fmt/format.h>

namespace berth::build {

nlohmann::json& StageImage::settings() {
  if (!config.contains("config") || !config["config"].is_object())
    config["config"] = nlohmann::json::object();
  return config["config"];
}

void StageImage::record(const std::string& created_by, bool empty_layer) {
  nlohmann::json h = {
      {"created", last_created}, {"created_by", created_by}, {"comment", "buildkit.dockerfile.v0"}};
  if (empty_layer) h["empty_layer"] = true;
  config["history"].push_back(std::move(h));
}

void StageImage::add_layer(const PackedLayer& layer, const std::string& dir,
                           const std::string& created_by, const std::string& created) {
  if (!created.empty()) last_created = created;
  if (layer.empty) {
    record(created_by, true);
    return;
  }
  layers.push_back(
      {{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
  layer_dirs.push_back(dir);
  config["rootfs"]["diff_ids"].push_back(layer.diff_id);
  record(created_by, false);
}

StageImage scratch_image() {
  StageImage s;
  s.config = {{"architecture", "amd64"},
              {"os", "linux"},
              {"config", nlohmann::json::object()},
              {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}},
              {"history", nlohmann::json::array()}};
  s.chain = "scratch";
  return s;
}

namespace {

bool string_list(const nlohmann::json& v) {
  return v.is_array() &&
         std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_string(); });
}

// The image's config settings a build reads, each of the type the image spec
// gives it (or absent, or null): a base image from anywhere is input too.
base::Status check_settings(const nlohmann::json& c, const std::string& image) {
  if (!c.is_object())
    return base::fail_msg(fmt::format("image {}: its config's \"config\" is not an object", image));
  auto bad = [&](const char* field, const char* kind) {
    return base::fail_msg(fmt::format("image {}: config field {} is not {}", image, field, kind));
  };
  for (const char* f : {"Env", "Cmd", "Entrypoint", "Shell", "OnBuild"})
    if (c.contains(f) && !c[f].is_null() && !string_list(c[f])) return bad(f, "a list of strings");
  for (const char* f : {"User", "WorkingDir", "StopSignal"})
    if (c.contains(f) && !c[f].is_null() && !c[f].is_string()) return bad(f, "a string");
  for (const char* f : {"Labels", "ExposedPorts", "Volumes", "Healthcheck"})
    if (c.contains(f) && !c[f].is_null() && !c[f].is_object()) return bad(f, "an object");
  if (c.contains("Labels") && c["Labels"].is_object())
    for (const auto& [k, v] : c["Labels"].items())
      if (!v.is_string()) return bad("Labels", "a map of strings");
  return {};
}

}  // namespace

base::Result<StageImage> stored_image(ImageStore& store, const std::string& name_or_id) {
  std::string manifest_digest = TRY(store.resolve(name_or_id));
  nlohmann::json manifest = TRY(store.manifest(manifest_digest));
  StageImage s;
  s.config = TRY(store.config(manifest_digest));
  if (!s.config.is_object())
    return base::fail_msg(fmt::format("image {}: its config is not an object", name_or_id));
  if (s.config.contains("config") && !s.config["config"].is_null())
    TRY_STATUS(check_settings(s.config["config"], name_or_id));
  if (!s.config.contains("rootfs") || !s.config["rootfs"].is_object())
    s.config["rootfs"] = {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}};
  if (!s.config.contains("history") || !s.config["history"].is_array())
    s.config["history"] = nlohmann::json::array();
  for (const auto& l : manifest.value("layers", nlohmann::json::array())) s.layers.push_back(l);
  s.layer_dirs = TRY(store.layer_dirs(manifest_digest));
  s.chain = "image " + manifest_digest;
  if (s.config.contains("created") && s.config["created"].is_string())
    s.last_created = s.config["created"].get<std::string>();
  return s;
}

base::Result<std::string> write_image(ImageStore& store, const StageImage& image,
                                      std::string& config_digest) {
  nlohmann::json config = image.config;
  config["created"] = image.last_created;
  std::string config_text = config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  config_digest = TRY(store.content().put_bytes(config_text));
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", config_digest},
                               {"size", config_text.size()}}},
                             {"layers", image.layers}};
  return store.content().put_bytes(
      manifest.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace berth::build
