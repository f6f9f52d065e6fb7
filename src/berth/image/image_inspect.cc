#include "berth/image/image_inspect.h"

namespace berth {

base::Result<nlohmann::json> inspect_image(ImageStore& store, const std::string& name_or_id) {
  using nlohmann::json;
  std::string digest = TRY(store.resolve(name_or_id));
  json manifest = TRY(store.manifest(digest));
  json config = TRY(store.config(digest));
  auto dirs = TRY(store.layer_dirs(digest));
  std::string id = manifest["config"].value("digest", "");
  json tags = json::array(), digests = json::array();
  uint64_t size = 0;
  for (const auto& info : store.list()) {
    if (info.manifest_digest != digest) continue;
    size = info.size;
    for (const auto& n : info.names) {
      tags.push_back(n);
      digests.push_back(n.substr(0, n.rfind(':') > n.rfind('/') ? n.rfind(':') : n.size()) + "@" +
                        digest);
    }
  }
  std::string lower;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
  json rootfs = config.value("rootfs", json::object());
  return json{{"Id", id},
              {"RepoTags", tags},
              {"RepoDigests", digests},
              {"Parent", ""},
              {"Comment", ""},
              {"Created", config.value("created", "")},
              {"Author", config.value("author", "")},
              {"Config", config.value("config", json::object())},
              {"Architecture", config.value("architecture", "")},
              {"Os", config.value("os", "")},
              {"Variant", config.value("variant", "")},
              {"Size", size},
              {"VirtualSize", size},
              {"GraphDriver", {{"Name", "overlay"}, {"Data", {{"LowerDir", lower}}}}},
              {"RootFS",
               {{"Type", rootfs.value("type", "layers")},
                {"Layers", rootfs.value("diff_ids", json::array())}}},
              {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}},
              {"ManifestDigest", digest},
              {"Manifest", manifest},
              {"LayerDirs", dirs}};
}

}  // namespace berth
