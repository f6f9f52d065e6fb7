// Image manifests and indexes as registries serve them: OCI image manifests
// and indexes, and Docker's v2 schema 2 manifests and manifest lists. Parsing
// checks everything the puller relies on and names the field when something is
// wrong ("manifest: layers[1].digest: ..."). select_platform() picks the entry
// of an index for a platform, as `docker pull --platform` does.
// Thread-safety: pure functions; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace berth {

namespace media {
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
// The Accept header for manifest requests: every kind above.
std::string accept_header();
bool is_index(const std::string& media_type);
bool is_manifest(const std::string& media_type);
}  // namespace media

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH names: amd64, arm64, ...
  std::string variant;       // "v8", "v7" or ""
  std::string text() const;  // "linux/arm64/v8"
};
// This machine's platform.
Platform host_platform();
// "os/arch[/variant]".
base::Result<Platform> parse_platform(const std::string& text);

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  Platform platform;  // index entries only
};

struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageIndex {
  std::vector<Descriptor> manifests;
};

// The media type of a manifest body: its own mediaType field, else the
// Content-Type the registry sent, else (no field, as early OCI manifests)
// a guess from its shape.
std::string manifest_media_type(const std::string& body, const std::string& content_type);
base::Result<ImageManifest> parse_manifest(const std::string& body);
base::Result<ImageIndex> parse_index(const std::string& body);
// The index entry for `want` (a missing variant matches any); the error lists
// the platforms the index offers.
base::Result<Descriptor> select_platform(const ImageIndex& index, const Platform& want);

}  // namespace berth
