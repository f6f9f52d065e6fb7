#include "berth/image/image_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "base/file_lock.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "berth/image/digest.h"
#include "berth/image/reference.h"

namespace berth {

ImageStore::ImageStore(const std::string& root) : root_(root), content_(root), layers_(root) {}

std::map<std::string, std::string> ImageStore::read_refs() {
  auto text = base::read_text(root_ + "/refs.json");
  if (!text) return {};
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return {};
  std::map<std::string, std::string> refs;
  for (const auto& [k, v] : j.items())
    if (v.is_string()) refs[k] = v.get<std::string>();
  return refs;
}

base::Status ImageStore::write_refs(const std::map<std::string, std::string>& refs) {
  return base::replace_file(root_ + "/refs.json", nlohmann::json(refs).dump(2));
}

base::Status ImageStore::tag(const std::string& full_name, const std::string& manifest_digest) {
  if (full_name.find('@') != std::string::npos)
    return base::fail_msg(fmt::format(
        "image name '{}': a digest names what a registry holds; give a tag", full_name));
  return name(full_name, manifest_digest);
}

base::Status ImageStore::add_repository_digest(const std::string& digest_name,
                                               const std::string& manifest_digest) {
  auto at = digest_name.find('@');
  if (at == std::string::npos)
    return base::fail_msg(fmt::format("'{}' is not a repository digest", digest_name));
  TRY_STATUS(check_digest(digest_name.substr(at + 1), "repository digest"));
  return name(digest_name, manifest_digest);
}

base::Status ImageStore::name(const std::string& full_name, const std::string& manifest_digest) {
  TRY_STATUS(check_digest(manifest_digest, "manifest"));
  auto lock = TRY(base::FileLock::acquire(root_ + "/store.lock"));
  auto refs = read_refs();
  refs[full_name] = manifest_digest;
  return write_refs(refs);
}

base::Result<std::string> ImageStore::resolve(const std::string& name_or_id) {
  auto refs = read_refs();
  if (auto ref = parse_reference(name_or_id)) {
    if (auto it = refs.find(ref->full()); it != refs.end()) return it->second;
    // "repo:tag@sha256:..." is known by its digest alone, as docker's.
    if (auto it = refs.find(ref->name() + "@" + ref->digest);
        !ref->digest.empty() && it != refs.end())
      return it->second;
    if (!ref->digest.empty() && content_.has(ref->digest)) return ref->digest;
  }
  std::string prefix = name_or_id.rfind("sha256:", 0) == 0 ? name_or_id.substr(7) : name_or_id;
  if (prefix.size() >= 4 && prefix.find_first_not_of("0123456789abcdef") == std::string::npos) {
    std::set<std::string> found;
    for (const auto& [name, digest] : refs) {
      auto m = manifest(digest);
      if (!m) continue;
      std::string id = (*m)["config"]["digest"];
      if (id.compare(7, prefix.size(), prefix) == 0 ||
          digest.compare(7, prefix.size(), prefix) == 0)
        found.insert(digest);
    }
    if (found.size() == 1) return *found.begin();
    if (found.size() > 1)
      return base::fail_msg(fmt::format("image id '{}' is ambiguous", name_or_id));
  }
  return base::fail_msg(fmt::format("no such image: {}", name_or_id));
}

base::Result<nlohmann::json> ImageStore::manifest(const std::string& manifest_digest) {
  std::string text = TRY(content_.read(manifest_digest));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("config") || !j.contains("layers"))
    return base::fail_msg(fmt::format("manifest {} is malformed", manifest_digest));
  return j;
}

base::Result<nlohmann::json> ImageStore::config(const std::string& manifest_digest) {
  auto m = TRY(manifest(manifest_digest));
  std::string text = TRY(content_.read(m["config"]["digest"].get<std::string>()));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return base::fail_msg(fmt::format("image config of {} is malformed", manifest_digest));
  return j;
}

base::Result<std::vector<std::string>> ImageStore::layer_dirs(const std::string& manifest_digest) {
  auto c = TRY(config(manifest_digest));
  std::vector<std::string> dirs;
  for (const auto& d : c["rootfs"]["diff_ids"]) {
    std::string id = d.get<std::string>();
    if (!layers_.has(id))
      return base::fail_msg(fmt::format("layer {} is missing from the store", id));
    dirs.push_back(layers_.path(id));
  }
  return dirs;
}

std::vector<ImageInfo> ImageStore::list() {
  std::map<std::string, ImageInfo> by_manifest;
  for (const auto& [name, digest] : read_refs()) {
    ImageInfo& info = by_manifest[digest];
    info.manifest_digest = digest;
    (name.find('@') == std::string::npos ? info.names : info.digests).push_back(name);
  }
  std::vector<ImageInfo> out;
  for (auto& [digest, info] : by_manifest) {
    auto m = manifest(digest);
    auto c = config(digest);
    if (!m || !c) continue;
    info.id = (*m)["config"]["digest"];
    for (const auto& l : (*m)["layers"]) info.size += l.value("size", uint64_t{0});
    info.created = c->value("created", "");
    out.push_back(info);
  }
  return out;
}

base::Result<std::vector<std::string>> ImageStore::remove(const std::string& name_or_id) {
  auto lock = TRY(base::FileLock::acquire(root_ + "/store.lock"));
  auto refs = read_refs();
  std::vector<std::string> removed;
  auto ref = parse_reference(name_or_id);
  std::string key;
  if (ref) key = ref->digest.empty() ? ref->full() : ref->name() + "@" + ref->digest;
  if (ref && refs.count(key)) {
    std::string digest = refs[key];
    refs.erase(key);
    removed.push_back(key);
    // The image's last tag in this repository gone, its digests there go
    // too (as docker's rmi): a digest alone would keep an image nobody
    // tagged. Removing a digest removes that digest only.
    std::string repository = ref->name();
    auto in_repository = [&](const std::string& n, char mark) {
      return n.size() > repository.size() && n.compare(0, repository.size(), repository) == 0 &&
             n[repository.size()] == mark;
    };
    bool tagged = std::any_of(refs.begin(), refs.end(), [&](const auto& r) {
      return r.second == digest && in_repository(r.first, ':');
    });
    for (auto it = refs.begin(); it != refs.end();)
      if (ref->digest.empty() && !tagged && it->second == digest && in_repository(it->first, '@')) {
        removed.push_back(it->first);
        it = refs.erase(it);
      } else {
        ++it;
      }
  } else {
    std::string digest = TRY(resolve(name_or_id));
    for (auto it = refs.begin(); it != refs.end();) {
      if (it->second == digest) {
        removed.push_back(it->first);
        it = refs.erase(it);
      } else {
        ++it;
      }
    }
  }
  TRY_STATUS(write_refs(refs));
  collect_garbage(refs);
  return removed;
}

base::Status ImageStore::prune() {
  auto lock = TRY(base::FileLock::acquire(root_ + "/store.lock"));
  collect_garbage(read_refs());
  return {};
}

void ImageStore::collect_garbage(const std::map<std::string, std::string>& refs) {
  std::set<std::string> blobs, layer_ids;
  for (const auto& [name, digest] : refs) {
    blobs.insert(digest_hex(digest));
    auto m = manifest(digest);
    if (!m) continue;
    blobs.insert(digest_hex((*m)["config"]["digest"].get<std::string>()));
    for (const auto& l : (*m)["layers"]) blobs.insert(digest_hex(l["digest"].get<std::string>()));
    if (auto c = config(digest))
      for (const auto& d : (*c)["rootfs"]["diff_ids"])
        layer_ids.insert(digest_hex(d.get<std::string>()));
  }
  std::error_code ec;
  // Layers under a container's root stay while the container exists, even
  // when its image has lost every name.
  for (const auto& c : std::filesystem::directory_iterator(root_ + "/containers", ec)) {
    std::string lower = base::read_text(c.path().string() + "/lowerdirs").value_or("");
    for (size_t start = 0; start < lower.size();) {
      size_t colon = lower.find(':', start);
      std::string dir =
          lower.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      layer_ids.insert(std::filesystem::path(dir).filename());
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  // Temporaries are named .tmp-<pid>-...: those of dead processes are litter.
  auto stale = [](const std::string& name) {
    if (name.rfind(".tmp-", 0) != 0) return false;
    int pid = std::atoi(name.c_str() + 5);
    if (pid <= 0) return false;
    auto alive = base::sys::kill(pid, 0);
    return !alive && alive.error().code() == ESRCH;
  };
  for (const char* sub : {"", "/blobs/sha256", "/layers"})
    for (const auto& e : std::filesystem::directory_iterator(root_ + sub, ec)) {
      std::string name = e.path().filename();
      // At the top, only the temporaries (a dead `berth load`'s) are this loop's business.
      bool used = name[0] == '.'  ? !stale(name)
                  : sub[0] == 0   ? true
                  : sub[1] == 'b' ? blobs.count(name)
                                  : layer_ids.count(name);
      if (!used) std::filesystem::remove_all(e.path(), ec);
    }
}

}  // namespace berth
