// The layer cache of `berth build`, under <root>/build-cache/<hex>.json.
//
// A step's key is the SHA-256 of its parent's key (the chain: the base
// image's manifest digest, then every step before it) and of the step as
// it will run: the instruction after ARG/ENV expansion with everything that
// changes its result (for RUN the environment, user, working directory,
// shell and network; for COPY/ADD a digest of every input's path, type,
// mode, size and bytes). An entry names the layer the step made (or that
// it made none); a hit needs that layer and its blob still in the store.
// It also keeps when the layer was made, so a rebuild from the cache gives
// the same history, config and image id. Entries are written atomically; a
// damaged one reads as a miss.
// Thread-safety: safe across processes (each entry is one rename).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_packer.h"

namespace berth::build {

struct CacheEntry {
  PackedLayer layer;
  std::string created;  // RFC 3339: when the step first ran
};

class BuildCache {
 public:
  explicit BuildCache(const std::string& root);  // berth's --root

  // The key of a step after `parent`, from the step's fields (the
  // instruction and all that changes its result), each hashed after its
  // length: no field, whatever bytes it holds, can pass for others.
  static std::string key(const std::string& parent, const std::vector<std::string>& step);
  // A list (argv, env) as one field: each element after its length.
  static std::string list_field(const std::vector<std::string>& items);
  // The layer a step with `key` made, when the store still has it.
  std::optional<CacheEntry> find(ImageStore& store, const std::string& key) const;
  base::Status put(const std::string& key, const CacheEntry& entry);
  // Forgets every entry (`berth builder prune`); returns how many.
  base::Result<size_t> clear();

 private:
  std::string dir_;
};

}  // namespace berth::build
