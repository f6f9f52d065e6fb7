// Unpacked image layers under <root>/layers/<diff-id hex>/, each unpacked once
// and shared by every image and container that uses it (overlayfs lowerdirs).
// Unpacking streams the blob through decompression (gzip, zstd or none),
// hashes the uncompressed tar (the layer's diff id) and extracts it in one
// pass. OCI whiteouts become overlayfs ones: ".wh.NAME" a 0:0 character
// device, ".wh..wh..opq" the trusted.overlay.opaque xattr. Entries that would
// land outside the layer (absolute paths, "..", through symlinks) are errors.
// A layer appears under its final name only when whole and verified.
// Thread-safety: unpacking one layer twice at once is safe (rename; first wins).
#pragma once

#include <string>

#include "base/error.h"

namespace berth {

class LayerStore {
 public:
  // A layer unpacked into a temporary directory, not yet under its final
  // name; dropping it without commit() removes it.
  class Pending {
   public:
    Pending(Pending&& other) noexcept;
    Pending& operator=(Pending&&) = delete;
    ~Pending();
    const std::string& diff_id() const { return diff_id_; }

   private:
    friend class LayerStore;
    Pending(std::string tmp, std::string diff_id);
    std::string tmp_;
    std::string diff_id_;
  };

  explicit LayerStore(std::string root);
  std::string path(const std::string& diff_id) const;
  bool has(const std::string& diff_id) const;
  // Unpacks the layer blob at `blob_path`; returns its diff id. With
  // `expected_diff_id`, a different one is an error and nothing is kept.
  base::Result<std::string> unpack(const std::string& blob_path,
                                   const std::string& expected_diff_id = {});
  // Unpacks a layer stream (any compression) read from `fd` up to the end of
  // its tar; `what` names it in errors. The caller may verify more (the blob's
  // digest) before commit().
  base::Result<Pending> extract(int fd, const std::string& what);
  // Moves the layer to its final name; with `expected_diff_id`, a different one
  // is an error and nothing is kept. Returns the diff id.
  base::Result<std::string> commit(Pending pending, const std::string& expected_diff_id = {});
  // Takes `dir`, already in a layer's layout and on the store's filesystem
  // (layer_packer.h made its diff id), as the layer `diff_id`: its root
  // made 0755 root:root as an unpacked layer's, then renamed into place; or
  // deleted when the store has that layer already.
  base::Status adopt(const std::string& dir, const std::string& diff_id);

 private:
  std::string dir_;
};

}  // namespace berth
