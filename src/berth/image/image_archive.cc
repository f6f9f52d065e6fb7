#include "berth/image/image_archive.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "base/pending_file.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "berth/image/digest.h"
#include "berth/image/libarchive_calls.h"
#include "berth/image/manifest.h"
#include "berth/image/reference.h"

namespace berth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string blob_name(const std::string& digest) {
  return "blobs/sha256/" + digest_hex(digest);
}

base::Status archive_failed(archive* a, const std::string& what) {
  return base::fail_msg(fmt::format("{}: {}", what, libarchive().archive_error_string(a)));
}

// One tar entry: a directory, or a regular file with `size` bytes from `fill`.
base::Status add_entry(archive* out, const std::string& name, bool dir, int64_t size,
                       const std::function<base::Status()>& fill) {
  const LibArchive& la = libarchive();
  archive_entry* e = la.archive_entry_new();
  la.archive_entry_set_pathname(e, name.c_str());
  la.archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
  la.archive_entry_set_perm(e, dir ? 0755 : 0644);
  la.archive_entry_set_size(e, dir ? 0 : size);
  la.archive_entry_set_mtime(e, 0, 0);
  int rc = la.archive_write_header(out, e);
  la.archive_entry_free(e);
  if (rc != ARCHIVE_OK) return archive_failed(out, "save: " + name);
  if (fill) TRY_STATUS(fill());
  return {};
}

base::Status add_bytes(archive* out, const std::string& name, const std::string& bytes) {
  return add_entry(out, name, false, static_cast<int64_t>(bytes.size()), [&]() -> base::Status {
    if (libarchive().archive_write_data(out, bytes.data(), bytes.size()) < 0)
      return archive_failed(out, "save: " + name);
    return {};
  });
}

base::Status add_file(archive* out, const std::string& name, const std::string& path) {
  base::UniqueFd in = TRY(base::sys::open(path, O_RDONLY));
  struct stat st = TRY(base::sys::fstat(in.get(), path));
  return add_entry(out, name, false, st.st_size, [&]() -> base::Status {
    std::vector<char> buf(1 << 20);
    for (;;) {
      size_t n = TRY(base::sys::read(in.get(), buf.data(), buf.size(), path));
      if (n == 0) return {};
      if (libarchive().archive_write_data(out, buf.data(), n) < 0)
        return archive_failed(out, "save: " + name);
    }
  });
}

// Unpacks the regular files and directories of the tar at `in_path` into `dir`.
base::Status unpack_archive(const std::string& in_path, const std::string& dir) {
  const LibArchive& la = libarchive();
  if (!la.error.empty()) return base::fail_msg(la.error);
  base::UniqueFd in;
  if (in_path == "-") {
    in = base::UniqueFd(::dup(0));
  } else {
    in = TRY(base::sys::open(in_path, O_RDONLY));
  }
  ArchiveReader r(la.archive_read_new());
  la.archive_read_support_filter_all(r.get());
  la.archive_read_support_format_tar(r.get());
  la.archive_read_support_format_gnutar(r.get());
  if (la.archive_read_open_fd(r.get(), in.get(), 1 << 20) != ARCHIVE_OK)
    return archive_failed(r.get(), "load " + in_path);
  archive_entry* e = nullptr;
  for (;;) {
    int rc = la.archive_read_next_header(r.get(), &e);
    if (rc == ARCHIVE_EOF) return {};
    if (rc < ARCHIVE_WARN) return archive_failed(r.get(), "load " + in_path);
    std::string name = la.archive_entry_pathname(e) ? la.archive_entry_pathname(e) : "";
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (name.empty()) continue;
    fs::path rel(name);
    if (rel.is_absolute() ||
        std::any_of(rel.begin(), rel.end(), [](const fs::path& c) { return c == ".."; }))
      return base::fail_msg(fmt::format("load {}: entry '{}' leaves the archive", in_path, name));
    std::string target = fmt::format("{}/{}", dir, name);
    std::error_code ec;
    if (la.archive_entry_filetype(e) == AE_IFDIR) {
      fs::create_directories(target, ec);
      continue;
    }
    if (la.archive_entry_filetype(e) != AE_IFREG) continue;  // links and devices: not image data
    fs::create_directories(fs::path(target).parent_path(), ec);
    base::UniqueFd out =
        TRY(base::sys::open(target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600));
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = la.archive_read_data(r.get(), buf, sizeof buf);
      if (n < 0) return archive_failed(r.get(), fmt::format("load {}: {}", in_path, name));
      if (n == 0) break;
      TRY_STATUS(base::sys::write_all(out.get(), buf, static_cast<size_t>(n), target));
    }
  }
}

// Stores the file at `path` as a blob; with `expected`, it must have that digest.
base::Result<std::string> store_file(ImageStore& store, const std::string& path,
                                     const std::string& expected = {}) {
  base::UniqueFd in = TRY(base::sys::open(path, O_RDONLY));
  return store.content().put(
      [&](const ContentStore::Sink& sink) -> base::Status {
        std::vector<char> buf(1 << 20);
        for (;;) {
          size_t n = TRY(base::sys::read(in.get(), buf.data(), buf.size(), path));
          if (n == 0) return {};
          TRY_STATUS(sink(buf.data(), n));
        }
      },
      expected);
}

// The diff ids an image config lists.
base::Result<std::vector<std::string>> diff_ids(const json& config, const std::string& what) {
  if (!config.is_object() || !config.contains("rootfs") ||
      !config["rootfs"].value("diff_ids", json()).is_array())
    return base::fail_msg(what + ": config has no rootfs.diff_ids");
  std::vector<std::string> out;
  for (const auto& d : config["rootfs"]["diff_ids"]) {
    if (!d.is_string()) return base::fail_msg(what + ": rootfs.diff_ids: not a string");
    TRY_STATUS(check_digest(d.get<std::string>(), what + ": rootfs.diff_ids"));
    out.push_back(d.get<std::string>());
  }
  return out;
}

std::string layer_media_type(const std::string& path) {
  unsigned char magic[4] = {0};
  if (auto fd = base::sys::open(path, O_RDONLY)) (void)!::read(fd->get(), magic, sizeof magic);
  if (magic[0] == 0x1f && magic[1] == 0x8b) return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  return "application/vnd.oci.image.layer.v1.tar";
}

// An OCI layout in `dir`: every image its index.json names (for a nested
// index, the host's platform).
base::Result<std::vector<std::string>> load_oci(ImageStore& store, const std::string& dir) {
  json index = json::parse(TRY(base::read_text(dir + "/index.json")), nullptr, false);
  ImageIndex top = TRY_CTX(parse_index(index.dump()), "load: index.json");
  std::vector<std::string> names;
  for (size_t i = 0; i < top.manifests.size(); ++i) {
    Descriptor d = top.manifests[i];
    const json& raw = index["manifests"][i];
    std::string name;
    if (raw.contains("annotations") && raw["annotations"].is_object()) {
      name = raw["annotations"].value("io.containerd.image.name", "");
      if (name.empty()) name = raw["annotations"].value("org.opencontainers.image.ref.name", "");
    }
    if (name.empty())
      return base::fail_msg(fmt::format("load: index.json manifests[{}] has no image name", i));
    Reference ref = TRY_CTX(parse_reference(name), "load: index.json");
    if (media::is_index(d.media_type)) {
      TRY_STATUS(store_file(store, dir + "/" + blob_name(d.digest), d.digest));
      ImageIndex nested = TRY(parse_index(TRY(store.content().read(d.digest))));
      d = TRY_CTX(select_platform(nested, host_platform()), "load " + name);
    }
    TRY_STATUS(store_file(store, dir + "/" + blob_name(d.digest), d.digest));
    ImageManifest m = TRY_CTX(parse_manifest(TRY(store.content().read(d.digest))), "load " + name);
    TRY_STATUS(store_file(store, dir + "/" + blob_name(m.config.digest), m.config.digest));
    json config = json::parse(TRY(store.content().read(m.config.digest)), nullptr, false);
    auto ids = TRY(diff_ids(config, "load " + name));
    if (ids.size() != m.layers.size())
      return base::fail_msg(
          fmt::format("load {}: {} layers but {} diff ids", name, m.layers.size(), ids.size()));
    for (size_t l = 0; l < m.layers.size(); ++l) {
      TRY_STATUS(store_file(store, dir + "/" + blob_name(m.layers[l].digest), m.layers[l].digest));
      TRY_STATUS(store.layers().unpack(store.content().path(m.layers[l].digest), ids[l]));
    }
    TRY_STATUS(store.tag(ref.full(), d.digest));
    names.push_back(ref.full());
  }
  return names;
}

// A docker-archive in `dir` (manifest.json): each entry becomes an OCI image.
base::Result<std::vector<std::string>> load_docker(ImageStore& store, const std::string& dir) {
  json entries = json::parse(TRY(base::read_text(dir + "/manifest.json")), nullptr, false);
  if (!entries.is_array()) return base::fail_msg("load: manifest.json is not an array");
  std::vector<std::string> names;
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& e = entries[i];
    std::string what = fmt::format("load: manifest.json[{}]", i);
    if (!e.is_object() || !e.value("Config", json()).is_string() ||
        !e.value("Layers", json()).is_array())
      return base::fail_msg(what + ": needs Config and Layers");
    auto inside = [&](const std::string& rel) -> base::Result<std::string> {
      fs::path p(rel);
      if (p.is_absolute() ||
          std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; }))
        return base::fail_msg(fmt::format("{}: '{}' leaves the archive", what, rel));
      return fmt::format("{}/{}", dir, rel);
    };
    std::string config_path = TRY(inside(e["Config"].get<std::string>()));
    std::string config_text = TRY(base::read_text(config_path));
    std::string config_digest = TRY(store.content().put_bytes(config_text));
    auto ids = TRY(diff_ids(json::parse(config_text, nullptr, false), what));
    if (ids.size() != e["Layers"].size())
      return base::fail_msg(
          fmt::format("{}: {} layers but {} diff ids", what, e["Layers"].size(), ids.size()));
    json layers = json::array();
    for (size_t l = 0; l < ids.size(); ++l) {
      if (!e["Layers"][l].is_string()) return base::fail_msg(what + ": Layers: not a string");
      std::string path = TRY(inside(e["Layers"][l].get<std::string>()));
      std::string digest = TRY(store_file(store, path));
      TRY_STATUS(store.layers().unpack(store.content().path(digest), ids[l]));
      uint64_t size = TRY(base::file_size(path));
      layers.push_back({{"mediaType", layer_media_type(path)}, {"digest", digest}, {"size", size}});
    }
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", media::kOciManifest},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", config_digest},
                       {"size", config_text.size()}}},
                     {"layers", layers}};
    std::string manifest_digest = TRY(store.content().put_bytes(manifest.dump()));
    for (const auto& tag : e.value("RepoTags", json::array())) {
      if (!tag.is_string()) continue;
      Reference ref = TRY_CTX(parse_reference(tag.get<std::string>()), what);
      TRY_STATUS(store.tag(ref.full(), manifest_digest));
      names.push_back(ref.full());
    }
    if (e.value("RepoTags", json::array()).empty())
      return base::fail_msg(what + ": the image has no RepoTags to name it by");
  }
  return names;
}

}  // namespace

base::Status save_images(ImageStore& store, const std::vector<std::string>& images,
                         const std::string& out_path) {
  const LibArchive& la = libarchive();
  if (!la.error.empty()) return base::fail_msg(la.error);
  json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
  json docker = json::array();
  std::set<std::string> blobs;
  for (const auto& name : images) {
    std::string digest = TRY(store.resolve(name));
    json m = TRY(store.manifest(digest));
    std::string full = name;
    if (auto ref = parse_reference(name)) full = ref->full();
    std::string tag = full.substr(full.rfind(':') + 1);
    index["manifests"].push_back(
        {{"mediaType", m.value("mediaType", std::string(media::kOciManifest))},
         {"digest", digest},
         {"size", TRY(store.content().read(digest)).size()},
         {"annotations",
          {{"io.containerd.image.name", full}, {"org.opencontainers.image.ref.name", tag}}}});
    json layers = json::array();
    for (const auto& l : m["layers"]) {
      layers.push_back(blob_name(l["digest"]));
      blobs.insert(l["digest"]);
    }
    docker.push_back(
        {{"Config", blob_name(m["config"]["digest"])}, {"RepoTags", {full}}, {"Layers", layers}});
    blobs.insert(digest);
    blobs.insert(m["config"]["digest"]);
  }
  // A file is written under a temporary name: never a partial one under its own.
  std::optional<base::PendingFile> file;
  base::UniqueFd out;
  if (out_path == "-") {
    out = base::UniqueFd(TRY(base::sys::dup(1)));
  } else {
    file.emplace(TRY(base::PendingFile::create(out_path)));
  }
  int out_fd = file ? file->fd() : out.get();
  auto written = [&]() -> base::Status {
    ArchiveWriter w(la.archive_write_new());
    la.archive_write_set_format_pax_restricted(w.get());
    if (la.archive_write_open_fd(w.get(), out_fd) != ARCHIVE_OK)
      return archive_failed(w.get(), "save");
    TRY_STATUS(add_bytes(w.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    TRY_STATUS(add_entry(w.get(), "blobs", true, 0, {}));
    TRY_STATUS(add_entry(w.get(), "blobs/sha256", true, 0, {}));
    for (const auto& b : blobs)
      TRY_STATUS(add_file(w.get(), blob_name(b), store.content().path(b)));
    TRY_STATUS(add_bytes(w.get(), "index.json", index.dump()));
    TRY_STATUS(add_bytes(w.get(), "manifest.json", docker.dump()));
    if (la.archive_write_close(w.get()) != ARCHIVE_OK) return archive_failed(w.get(), "save");
    return {};
  }();
  TRY_STATUS(written);
  return file ? file->commit() : base::Status{};
}

base::Result<std::vector<std::string>> load_images(ImageStore& store, const std::string& in_path) {
  std::string dir = fmt::format("{}/.tmp-{}-load", store.root(), ::getpid());
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return base::fail(base::Error::sys(ec.value(), "mkdir", dir));
  auto loaded = [&]() -> base::Result<std::vector<std::string>> {
    TRY_STATUS(unpack_archive(in_path, dir));
    if (base::path_exists(dir + "/index.json")) return load_oci(store, dir);
    if (base::path_exists(dir + "/manifest.json")) return load_docker(store, dir);
    return base::fail_msg(fmt::format(
        "load {}: neither an OCI layout (index.json) nor a docker archive (manifest.json)",
        in_path));
  }();
  fs::remove_all(dir, ec);
  return loaded;
}

}  // namespace berth
