#include "berth/registry/puller.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/sys.h"
#include "base/unique_fd.h"
#include "berth/image/digest.h"

namespace berth {
namespace {

constexpr uint64_t kMaxConfigSize = 16u << 20;

std::string short_digest(const std::string& digest) {
  return digest.substr(7, 12);
}

// Streams blob `d` into the content store, handing every byte to `also`
// too; the size must match the descriptor's exactly.
base::Result<std::string> fetch_blob(RegistryClient& client, ContentStore& content,
                                     const Descriptor& d, const BodySink& also,
                                     const std::function<void(uint64_t)>& on_length = {}) {
  uint64_t received = 0;
  auto stored = content.put(
      [&](const ContentStore::Sink& sink) -> base::Status {
        TRY_STATUS(client.blob(
            d.digest,
            [&](const char* data, size_t len) -> base::Status {
              received += len;
              if (received > d.size)
                return base::fail_msg(
                    fmt::format("blob {}: the registry sent more than the manifest's {} bytes",
                                d.digest, d.size));
              TRY_STATUS(sink(data, len));
              return also ? also(data, len) : base::Status{};
            },
            on_length));
        if (received != d.size)
          return base::fail_msg(
              fmt::format("blob {}: truncated: {} of {} bytes", d.digest, received, d.size));
        return {};
      },
      d.digest);
  if (!stored) return base::fail(std::move(stored).error());
  return *stored;
}

// One layer: download -> (blob file, pipe -> unpacker) -> committed layer dir.
base::Status pull_layer(RegistryClient& client, ImageStore& store, const Descriptor& d,
                        const std::string& diff_id, PullProgress* progress, size_t slot) {
  auto set_state = [&](const char* s) {
    if (progress) progress->set_state(slot, s);
  };
  if (store.layers().has(diff_id) && store.content().has(d.digest)) {
    set_state("already exists");
    return {};
  }
  if (store.content().has(d.digest)) {
    set_state("unpacking");
    TRY_STATUS(store.layers().unpack(store.content().path(d.digest), diff_id));
    set_state("pull complete");
    return {};
  }
  auto pipe = base::sys::pipe();
  if (!pipe) return base::fail(base::Error::sys(pipe.error().code(), "pipe2"));
  base::UniqueFd read_end = std::move(pipe->read);
  base::UniqueFd write_end = std::move(pipe->write);
  ::fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20);  // best effort: fewer wakeups

  std::optional<base::Result<LayerStore::Pending>> extracted;
  std::thread unpacker([&] {
    extracted.emplace(store.layers().extract(read_end.get(), "layer " + d.digest));
    if (*extracted) {  // let the download finish: read what follows the tar's end
      char sink[65536];
      while (::read(read_end.get(), sink, sizeof sink) > 0) {
      }
    }
    read_end.reset();  // a download still writing now fails with EPIPE
  });
  set_state("downloading");
  auto blob =
      fetch_blob(client, store.content(), d, [&](const char* data, size_t len) -> base::Status {
        TRY_STATUS(base::sys::write_all(write_end.get(), data, len, "layer unpacker"));
        if (progress) progress->advance(slot, len);
        return {};
      });
  write_end.reset();
  unpacker.join();
  // The first failure is the cause: a download that stopped because the
  // unpacker did (EPIPE) reports the unpacker's error, else its own.
  if (!blob && blob.error().code() != EPIPE) return base::fail(std::move(blob).error());
  if (!*extracted) return base::fail(std::move(*extracted).error());
  if (!blob) return base::fail(std::move(blob).error());
  set_state("verifying");
  TRY_STATUS(store.layers().commit(std::move(**extracted), diff_id));
  set_state("pull complete");
  return {};
}

// The config's diff ids, one per manifest layer.
base::Result<std::vector<std::string>> diff_ids_of(const nlohmann::json& config,
                                                   size_t layer_count) {
  if (!config.is_object() || !config.contains("rootfs") || !config["rootfs"].is_object() ||
      !config["rootfs"].contains("diff_ids") || !config["rootfs"]["diff_ids"].is_array())
    return base::fail_msg("image config: rootfs.diff_ids: must be an array");
  const auto& ids = config["rootfs"]["diff_ids"];
  if (ids.size() != layer_count)
    return base::fail_msg(
        fmt::format("image config: rootfs.diff_ids has {} entries but the manifest lists {} layers",
                    ids.size(), layer_count));
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string field = fmt::format("image config: rootfs.diff_ids[{}]", i);
    if (!ids[i].is_string()) return base::fail_msg(field + ": must be a string");
    TRY_STATUS(check_digest(ids[i].get<std::string>(), field));
    out.push_back(ids[i].get<std::string>());
  }
  return out;
}

}  // namespace

base::Result<PullResult> pull_image(ImageStore& store, const Reference& ref, const PullOptions& o) {
  ::signal(SIGPIPE, SIG_IGN);  // a failed unpacker closes its pipe: EPIPE, not death
  RegistryClient client = TRY(RegistryClient::connect(ref.registry, ref.repository, o.registry));
  PullResult result;
  result.name = ref.digest.empty() ? ref.full() : ref.name() + "@" + ref.digest;
  FetchedManifest top = TRY(client.manifest(ref.digest.empty() ? ref.tag : ref.digest));
  FetchedManifest chosen;
  if (media::is_index(top.media_type)) {
    ImageIndex index = TRY_CTX(parse_index(top.body), ref.full());
    Descriptor entry = TRY_CTX(select_platform(index, o.platform), ref.full());
    chosen = TRY(client.manifest(entry.digest));
    if (!media::is_manifest(chosen.media_type))
      return base::fail_msg(fmt::format("{}: the index entry {} is a {}, not an image manifest",
                                        ref.full(), entry.digest, chosen.media_type));
    result.index_digest = top.digest;
    TRY_STATUS(store.content().put_bytes(top.body, top.digest));
  } else if (media::is_manifest(top.media_type)) {
    chosen = std::move(top);
  } else {
    return base::fail_msg(
        fmt::format("{}: unsupported manifest type '{}'", ref.full(), top.media_type));
  }
  ImageManifest manifest = TRY_CTX(parse_manifest(chosen.body), ref.full());
  if (manifest.config.size > kMaxConfigSize)
    return base::fail_msg(fmt::format("{}: manifest.config.size {} is implausibly large",
                                      ref.full(), manifest.config.size));
  if (!store.content().has(manifest.config.digest))
    TRY_STATUS(fetch_blob(client, store.content(), manifest.config, {}));
  std::string config_text = TRY(store.content().read(manifest.config.digest));
  auto config = nlohmann::json::parse(config_text, nullptr, false);
  if (config.is_discarded())
    return base::fail_msg(fmt::format("{}: image config: not valid JSON", ref.full()));
  std::vector<std::string> diff_ids =
      TRY_CTX(diff_ids_of(config, manifest.layers.size()), ref.full());

  std::vector<size_t> slots;
  for (const auto& layer : manifest.layers)
    slots.push_back(o.progress ? o.progress->add(short_digest(layer.digest), layer.size) : 0);
  std::atomic<size_t> next{0};
  std::vector<std::optional<base::Error>> errors(manifest.layers.size());
  auto worker = [&] {
    for (size_t i; (i = next++) < manifest.layers.size();) {
      auto s = pull_layer(client, store, manifest.layers[i], diff_ids[i], o.progress, slots[i]);
      if (!s) {
        errors[i] = std::move(s).error().context(fmt::format("layer {}", i));
        if (o.progress) o.progress->set_state(slots[i], "failed");
      }
    }
  };
  std::vector<std::thread> workers;
  size_t n = std::min<size_t>(std::max(1, o.parallel_layers), manifest.layers.size());
  for (size_t i = 0; i < n; ++i) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  if (o.progress) o.progress->finish();
  for (auto& e : errors)
    if (e) return base::fail(std::move(*e).context(ref.full()));

  TRY_STATUS(store.content().put_bytes(chosen.body, chosen.digest));
  // A pull by tag names the image by it; either way the image is known by
  // the digest the registry gave (its index's, for a multi-platform image),
  // as docker's RepoDigests; a pull by digest gets no tag, as docker's.
  std::string known_as = result.index_digest.empty() ? chosen.digest : result.index_digest;
  if (ref.digest.empty()) TRY_STATUS(store.tag(result.name, chosen.digest));
  TRY_STATUS(store.add_repository_digest(ref.name() + "@" + known_as, chosen.digest));
  result.manifest_digest = chosen.digest;
  result.image_id = manifest.config.digest;
  return result;
}

}  // namespace berth
