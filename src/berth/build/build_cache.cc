#include "berth/build/build_cache.h"

#include <fcntl.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "base/text_file.h"

namespace berth::build {
namespace {
constexpr size_t kMaxEntryBytes = 64 << 10;
}  // namespace

BuildCache::BuildCache(const std::string& root) : dir_(root + "/build-cache") {}

std::string BuildCache::key(const std::string& parent, const std::vector<std::string>& step) {
  base::Sha256 h;
  std::string text = list_field({parent}) + list_field(step);
  h.update(text.data(), text.size());
  return h.digest();
}

std::string BuildCache::list_field(const std::vector<std::string>& items) {
  std::string out = fmt::format("{}[", items.size());
  for (const auto& i : items) out += fmt::format("{}:{}", i.size(), i);
  return out + "]";
}

std::optional<CacheEntry> BuildCache::find(ImageStore& store, const std::string& key) const {
  auto text = base::read_text_capped(dir_ + "/" + key.substr(7) + ".json", kMaxEntryBytes);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PackedLayer l;
  l.empty = j.value("empty", false);
  l.diff_id = j.value("diff_id", "");
  l.digest = j.value("digest", "");
  l.media_type = j.value("media_type", "");
  l.size = j.value("size", uint64_t{0});
  if (!l.empty && (!store.layers().has(l.diff_id) || !store.content().has(l.digest)))
    return std::nullopt;
  return CacheEntry{l, j.value("created", "")};
}

base::Status BuildCache::put(const std::string& key, const CacheEntry& entry) {
  TRY_STATUS(base::make_dirs(dir_));
  const PackedLayer& layer = entry.layer;
  nlohmann::json j = {{"created", entry.created},       {"empty", layer.empty},
                      {"diff_id", layer.diff_id},       {"digest", layer.digest},
                      {"media_type", layer.media_type}, {"size", layer.size}};
  return base::replace_file(dir_ + "/" + key.substr(7) + ".json", j.dump());
}

base::Result<size_t> BuildCache::clear() {
  if (!base::path_exists(dir_)) return size_t{0};
  base::UniqueFd fd = TRY(base::sys::open(dir_, O_PATH | O_DIRECTORY));
  size_t n = TRY(base::list_dir(fd.get(), dir_)).size();
  TRY_STATUS(base::remove_tree(dir_));
  return n;
}

}  // namespace berth::build
