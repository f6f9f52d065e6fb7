#include "berth/registry/pusher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/unique_fd.h"
#include "berth/image/manifest.h"

namespace berth {
namespace {

// One blob: skipped when the registry has it, else uploaded from the store.
base::Status push_blob(RegistryClient& client, ImageStore& store, const Descriptor& d,
                       const PushOptions& o, std::mutex& report) {
  std::string path = store.content().path(d.digest);
  auto fd = base::sys::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (!fd)
    return base::fail(std::move(fd).error().context(
        fmt::format("blob {} is not in the store (pull or build the image again)", d.digest)));
  struct stat st = TRY(base::sys::fstat(fd->get(), path));
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != d.size)
    return base::fail_msg(fmt::format("blob {}: {} bytes in the store, the manifest says {}",
                                      d.digest, st.st_size, d.size));
  bool present = TRY(client.has_blob(d.digest));
  if (!present) TRY_STATUS(client.upload_blob(d.digest, fd->get(), d.size));
  if (o.progress) {
    std::lock_guard lock(report);
    o.progress(d.digest.substr(7, 12), present ? "Layer already exists" : "Pushed");
  }
  return {};
}

}  // namespace

base::Result<PushResult> push_image(ImageStore& store, const Reference& ref, const PushOptions& o) {
  if (!ref.digest.empty())
    return base::fail_msg(fmt::format("cannot push a digest reference: {}", ref.full()));
  auto local = store.resolve(ref.full());
  if (!local)
    return base::fail_msg(
        fmt::format("An image does not exist locally with the tag: {}", familiar_name(ref.name())));
  std::string body = TRY(store.content().read(*local));
  ImageManifest manifest = TRY_CTX(parse_manifest(body), ref.full());
  std::string media_type = manifest_media_type(body, "");
  if (!media::is_manifest(media_type))
    return base::fail_msg(fmt::format("{}: a {} cannot be pushed", ref.full(), media_type));

  ::signal(SIGPIPE, SIG_IGN);  // a registry closing on us: an error, not death
  RegistryClient client = TRY(RegistryClient::connect(ref.registry, ref.repository, o.registry,
                                                      RegistryClient::Access::kPush));
  // Each layer blob once (old images repeat the empty layer), the config
  // last, as docker: a config names layers that are there.
  std::vector<Descriptor> blobs;
  std::set<std::string> seen;
  for (const auto& layer : manifest.layers)
    if (seen.insert(layer.digest).second) blobs.push_back(layer);
  blobs.push_back(manifest.config);
  std::atomic<size_t> next{0};
  std::mutex report;
  std::vector<std::optional<base::Error>> errors(blobs.size());
  std::atomic<bool> failed{false};  // one failure: no further uploads start
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < blobs.size() - 1;)
      if (auto s = push_blob(client, store, blobs[i], o, report); !s) {
        errors[i] = std::move(s).error().context(fmt::format("layer {}", i));
        failed = true;
      }
  };
  std::vector<std::thread> workers;
  size_t n = std::min<size_t>(std::max(1, o.parallel_blobs), std::max<size_t>(blobs.size() - 1, 1));
  for (size_t i = 0; i < n; ++i) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) return base::fail(std::move(*e).context(ref.full()));
  if (auto s = push_blob(client, store, blobs.back(), o, report); !s)
    return base::fail(std::move(s).error().context(ref.full() + ": config"));

  // The store verified the bytes against their digest as it read them, and
  // put_manifest() checks the registry's digest against the bytes.
  PushResult result;
  result.digest = TRY(client.put_manifest(ref.tag, media_type, body));
  result.size = body.size();
  TRY_STATUS(store.add_repository_digest(ref.name() + "@" + result.digest, *local));
  return result;
}

}  // namespace berth
