#include "berth/image/manifest.h"

#include <sys/utsname.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "berth/image/digest.h"
#include "oci/json_fields.h"

namespace berth {
namespace {

using oci::Fields;

const char* const kLayerTypes[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

base::Result<Descriptor> parse_descriptor(const nlohmann::json& j, const std::string& path) {
  Fields f = TRY(Fields::object(j, path));
  Descriptor d;
  d.media_type = TRY(f.str("mediaType", true));
  d.digest = TRY(f.str("digest", true));
  TRY_STATUS(check_digest(d.digest, f.at("digest")));
  auto size = TRY(f.integer("size", 0, INT64_MAX));
  if (!size) return base::fail_msg(fmt::format("{}: required", f.at("size")));
  d.size = static_cast<uint64_t>(*size);
  return d;
}

base::Result<nlohmann::json> parse_json(const std::string& body, const char* what) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return base::fail_msg(fmt::format("{}: not valid JSON", what));
  if (!j.is_object()) return base::fail_msg(fmt::format("{}: not a JSON object", what));
  return j;
}

base::Status check_schema_version(const Fields& f) {
  auto v = TRY(f.integer("schemaVersion", 0, INT32_MAX));
  if (!v || *v != 2)
    return base::fail_msg(
        fmt::format("{}: must be 2 (schema 1 manifests are not supported)", f.at("schemaVersion")));
  return {};
}

}  // namespace

namespace media {
std::string accept_header() {
  return fmt::format("Accept: {}, {}, {}, {}", kOciIndex, kDockerList, kOciManifest,
                     kDockerManifest);
}
bool is_index(const std::string& t) {
  return t == kOciIndex || t == kDockerList;
}
bool is_manifest(const std::string& t) {
  return t == kOciManifest || t == kDockerManifest;
}
}  // namespace media

std::string Platform::text() const {
  return variant.empty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
}

Platform host_platform() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  Platform p;
  if (m == "x86_64") {
    p.architecture = "amd64";
  } else if (m == "aarch64") {
    p.architecture = "arm64";
    p.variant = "v8";
  } else if (m.rfind("armv7", 0) == 0) {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (m == "i686" || m == "i386") {
    p.architecture = "386";
  } else {
    p.architecture = m;  // ppc64le, s390x, riscv64 use the kernel's name
  }
  return p;
}

base::Result<Platform> parse_platform(const std::string& text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = text.find('/', start);
    parts.push_back(
        text.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  bool empty_part = false;
  for (const auto& s : parts) empty_part |= s.empty();
  if (parts.size() < 2 || parts.size() > 3 || empty_part)
    return base::fail_msg(
        fmt::format("platform '{}': expected os/architecture[/variant], e.g. linux/arm64", text));
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

std::string manifest_media_type(const std::string& body, const std::string& content_type) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string())
    return j["mediaType"].get<std::string>();
  std::string ct = content_type.substr(0, content_type.find(';'));
  if (media::is_index(ct) || media::is_manifest(ct)) return ct;
  if (j.is_object() && j.contains("manifests")) return media::kOciIndex;
  if (j.is_object() && j.contains("layers")) return media::kOciManifest;
  return ct;
}

base::Result<ImageManifest> parse_manifest(const std::string& body) {
  nlohmann::json j = TRY(parse_json(body, "manifest"));
  Fields f(j, "manifest");
  TRY_STATUS(check_schema_version(f));
  ImageManifest m;
  if (!f.has("config")) return base::fail_msg("manifest.config: required");
  m.config = TRY(parse_descriptor(j["config"], "manifest.config"));
  if (!f.has("layers") || !j["layers"].is_array())
    return base::fail_msg("manifest.layers: must be an array");
  for (size_t i = 0; i < j["layers"].size(); ++i) {
    std::string path = fmt::format("manifest.layers[{}]", i);
    Descriptor d = TRY(parse_descriptor(j["layers"][i], path));
    bool known = false;
    for (const char* t : kLayerTypes) known |= d.media_type == t;
    if (!known)
      return base::fail_msg(fmt::format("{}.mediaType: '{}' is not a layer type berth can unpack",
                                        path, d.media_type));
    m.layers.push_back(std::move(d));
  }
  return m;
}

base::Result<ImageIndex> parse_index(const std::string& body) {
  nlohmann::json j = TRY(parse_json(body, "index"));
  Fields f(j, "index");
  TRY_STATUS(check_schema_version(f));
  if (!f.has("manifests") || !j["manifests"].is_array())
    return base::fail_msg("index.manifests: must be an array");
  ImageIndex index;
  for (size_t i = 0; i < j["manifests"].size(); ++i) {
    std::string path = fmt::format("index.manifests[{}]", i);
    Descriptor d = TRY(parse_descriptor(j["manifests"][i], path));
    const auto& entry = j["manifests"][i];
    if (entry.contains("platform")) {
      Fields p = TRY(Fields::object(entry["platform"], path + ".platform"));
      d.platform.os = TRY(p.str("os", true));
      d.platform.architecture = TRY(p.str("architecture", true));
      d.platform.variant = TRY(p.str("variant", false));
    } else {
      d.platform = Platform{"", "", ""};
    }
    index.manifests.push_back(std::move(d));
  }
  return index;
}

base::Result<Descriptor> select_platform(const ImageIndex& index, const Platform& want) {
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!media::is_manifest(d.media_type)) continue;
    const Platform& p = d.platform;
    if (p.os == want.os && p.architecture == want.architecture &&
        (want.variant.empty() || p.variant.empty() || p.variant == want.variant))
      return d;
    if (!p.os.empty()) offered += (offered.empty() ? "" : ", ") + p.text();
  }
  return base::fail_msg(fmt::format("no image for platform {} in the index (it has: {})",
                                    want.text(), offered.empty() ? "none" : offered));
}

}  // namespace berth
