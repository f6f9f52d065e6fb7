// The local images: OCI manifests and configs in the content store, layers in
// the layer store, and names ("docker.io/library/busybox:latest") pointing at
// manifest digests in <root>/refs.json, and repository digests
// ("127.0.0.1:5000/app@sha256:...") there too. Every change to the names takes an
// exclusive lock on <root>/store.lock and rewrites refs.json atomically, so a
// berth command killed at any moment leaves either the old or the new names.
// An image's id is its config digest, as docker shows it.
// Thread-safety: safe across processes (file lock); not shared across threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/unique_fd.h"
#include "berth/image/content_store.h"
#include "berth/image/layer_store.h"

namespace berth {

struct ImageInfo {
  std::string id;                    // config digest
  std::string manifest_digest;       //
  std::vector<std::string> names;    // full names with a tag
  std::vector<std::string> digests;  // "registry/repository@sha256:...": where it came from
  uint64_t size = 0;                 // sum of layer blob sizes
  std::string created;
};

class ImageStore {
 public:
  explicit ImageStore(const std::string& root);
  const std::string& root() const { return root_; }
  ContentStore& content() { return content_; }
  LayerStore& layers() { return layers_; }

  // Names the image by a full name with a tag; a name holding a digest is refused.
  base::Status tag(const std::string& full_name, const std::string& manifest_digest);
  // Records the digest a registry knows the image by
  // ("registry/repository@sha256:..."): for pull and push only, which have
  // just read it from, or written it to, that registry.
  base::Status add_repository_digest(const std::string& digest_name,
                                     const std::string& manifest_digest);
  // A name ("busybox", "localhost/x:1") or an id prefix (at least 4 hex digits) -> manifest digest.
  base::Result<std::string> resolve(const std::string& name_or_id);
  std::vector<ImageInfo> list();
  // Removes a name, or every name of an id; blobs and layers no other image
  // uses are deleted. An image losing its last tag in a repository loses
  // its digests in that repository too.
  base::Result<std::vector<std::string>> remove(const std::string& name_or_id);

  base::Result<nlohmann::json> manifest(const std::string& manifest_digest);
  base::Result<nlohmann::json> config(const std::string& manifest_digest);
  // Deletes blobs and layers that no named image uses (after a failed import or pull).
  base::Status prune();
  // The unpacked layer directories of an image, lowest first.
  base::Result<std::vector<std::string>> layer_dirs(const std::string& manifest_digest);

 private:
  base::Status name(const std::string& full_name, const std::string& manifest_digest);
  std::map<std::string, std::string> read_refs();
  base::Status write_refs(const std::map<std::string, std::string>& refs);
  void collect_garbage(const std::map<std::string, std::string>& refs);

  std::string root_;
  ContentStore content_;
  LayerStore layers_;
};

}  // namespace berth
