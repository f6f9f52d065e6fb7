#include "berth/image/image_inspect.h"

#include "berth/image/reference.h"

namespace berth {
namespace {

// A string field of an image config, "" when it is missing or not a string
// (a hostile config may hold anything there).
std::string text_of(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// A field that must be of `kind`'s type, else `fallback`.
nlohmann::json field_of(const nlohmann::json& j, const char* key, const nlohmann::json& fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].type() != fallback.type()) return fallback;
  return j[key];
}

}  // namespace

base::Result<nlohmann::json> inspect_image(ImageStore& store, const std::string& name_or_id) {
  using nlohmann::json;
  std::string digest = TRY(store.resolve(name_or_id));
  json manifest = TRY(store.manifest(digest));
  json config = TRY(store.config(digest));
  auto dirs = TRY(store.layer_dirs(digest));
  std::string id = text_of(field_of(manifest, "config", json::object()), "digest");
  json tags = json::array(), digests = json::array();
  uint64_t size = 0;
  for (const auto& info : store.list()) {
    if (info.manifest_digest != digest) continue;
    size = info.size;
    for (const auto& n : info.names) tags.push_back(familiar_name(n));
    for (const auto& d : info.digests) digests.push_back(familiar_name(d));
  }
  std::string lower;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
  json rootfs = field_of(config, "rootfs", json::object());
  return json{{"Id", id},
              {"RepoTags", tags},
              {"RepoDigests", digests},
              {"Parent", ""},
              {"Comment", ""},
              {"Created", text_of(config, "created")},
              {"Author", text_of(config, "author")},
              {"Config", field_of(config, "config", json::object())},
              {"Architecture", text_of(config, "architecture")},
              {"Os", text_of(config, "os")},
              {"Variant", text_of(config, "variant")},
              {"Size", size},
              {"VirtualSize", size},
              {"GraphDriver", {{"Name", "overlay"}, {"Data", {{"LowerDir", lower}}}}},
              {"RootFS",
               {{"Type", text_of(rootfs, "type")},
                {"Layers", field_of(rootfs, "diff_ids", json::array())}}},
              {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}},
              {"ManifestDigest", digest},
              {"Manifest", manifest},
              {"LayerDirs", dirs}};
}

}  // namespace berth
