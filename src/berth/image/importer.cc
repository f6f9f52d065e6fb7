#include "berth/image/importer.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/timestamp.h"
#include "berth/image/reference.h"

namespace berth {

base::Result<std::string> import_rootfs(ImageStore& store, const std::string& tar_path,
                                        const std::string& name) {
  Reference ref = TRY(parse_reference(name));
  if (!ref.digest.empty())
    return base::fail_msg(fmt::format("import: name '{}' must not carry a digest", name));
  base::UniqueFd in;
  if (tar_path == "-") {
    in = base::UniqueFd(::dup(0));
  } else {
    in = TRY(base::sys::open(tar_path, O_RDONLY));
  }
  uint64_t size = 0;
  std::string blob = TRY(store.content().put([&](const ContentStore::Sink& sink) -> base::Status {
    std::vector<char> buf(1 << 20);
    for (;;) {
      size_t n = TRY(base::sys::read(in.get(), buf.data(), buf.size(), tar_path));
      if (n == 0) return {};
      size += n;
      TRY_STATUS(sink(buf.data(), n));
    }
  }));
  auto unpacked = store.layers().unpack(store.content().path(blob));
  if (!unpacked) {
    (void)store.prune();  // the blob no image uses
    return base::fail(std::move(unpacked).error().context("import " + tar_path));
  }
  std::string diff_id = *unpacked;
  bool compressed = diff_id != blob;
  std::string now = base::now_rfc3339();
  nlohmann::json config = {
      {"created", now},
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
      {"history", {{{"created", now}, {"created_by", "berth import " + tar_path}}}},
  };
  std::string config_text = config.dump();
  std::string config_digest = TRY(store.content().put_bytes(config_text));
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", config_digest},
        {"size", config_text.size()}}},
      {"layers",
       {{{"mediaType", compressed ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                  : "application/vnd.oci.image.layer.v1.tar"},
         {"digest", blob},
         {"size", size}}}},
  };
  std::string manifest_digest = TRY(store.content().put_bytes(manifest.dump()));
  TRY_STATUS(store.tag(ref.full(), manifest_digest));
  return config_digest;
}

}  // namespace berth
