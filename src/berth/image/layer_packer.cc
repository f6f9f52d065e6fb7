#include "berth/image/layer_packer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "berth/image/libarchive_calls.h"
#include "berth/image/tree_tar.h"

namespace berth {
namespace {

// What libarchive writes: hashed (the diff id), then compressed into the blob.
struct TarOut {
  base::Sha256 diff;
  std::optional<LayerCompressor> compressor;
  base::Status failed;  // the first error, reported after libarchive returns
  uint64_t tar_bytes = 0;
};

la_ssize_t write_tar(archive*, void* data, const void* buf, size_t len) {
  auto* out = static_cast<TarOut*>(data);
  if (!out->failed) return -1;
  out->diff.update(buf, len);
  out->tar_bytes += len;
  if (auto s = out->compressor->write(buf, len); !s) {
    out->failed = std::move(s);
    return -1;
  }
  return static_cast<la_ssize_t>(len);
}

}  // namespace

base::Result<PackedLayer> pack_layer(ImageStore& store, const std::string& dir,
                                     LayerCompression compression) {
  const LibArchive& la = libarchive();
  if (!la.error.empty()) return base::fail_msg(la.error);
  base::UniqueFd root = TRY(base::sys::open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  PackedLayer packed;
  packed.media_type = fmt::format("application/vnd.oci.image.layer.v1.{}",
                                  LayerCompressor::media_suffix(compression));
  TarOut out;
  packed.digest = TRY(store.content().put([&](const ContentStore::Sink& sink) -> base::Status {
    out.compressor.emplace(TRY(LayerCompressor::make(
        compression,
        [&](const void* data, size_t len) -> base::Status {
          packed.size += len;
          return sink(data, len);
        },
        dir)));
    ArchiveWriter w(la.archive_write_new());
    la.archive_write_set_format_pax_restricted(w.get());
    // Names are bytes, written as they are whatever the locale: the same
    // files always make the same tar, and a name that is not UTF-8 is kept.
    if (la.archive_write_set_options(w.get(), "pax:hdrcharset=BINARY") != ARCHIVE_OK)
      return base::fail_msg(fmt::format("{}: libarchive cannot write binary pax names", dir));
    if (la.archive_write_open(w.get(), &out, nullptr, write_tar, nullptr) != ARCHIVE_OK)
      return base::fail_msg(fmt::format("{}: cannot start the layer's tar", dir));
    TreeTar packer(w.get(), dir, {true, ""}, out.failed);
    TRY_STATUS(packer.strip_root());
    TRY_STATUS(packer.directory(root.get(), ""));
    packed.empty = packer.entries() == 0;
    if (la.archive_write_close(w.get()) != ARCHIVE_OK) {
      if (!out.failed) return out.failed;
      return base::fail_msg(fmt::format("{}: ending the layer's tar failed", dir));
    }
    return out.compressor->finish();
  }));
  packed.diff_id = out.diff.digest();
  TRY_STATUS(store.layers().adopt(dir, packed.diff_id));
  return packed;
}

}  // namespace berth
