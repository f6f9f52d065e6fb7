// A directory in the layer store's format (a build step's overlayfs upper
// directory: whiteouts as 0:0 character devices, opaque directories marked
// by trusted.overlay.opaque) packed as an image layer:
//   - its entries as a tar, walked in bytewise name order with parents
//     first, so the same files always give the same diff id and digest;
//     owners, modes, mtimes, devices, symlinks, hard links (the first path
//     of an inode is the file, later ones link to it) and a file's
//     security.capability attribute are kept, as docker keeps them;
//   - overlayfs whiteouts turned into OCI ones (".wh.NAME", and
//     ".wh..wh..opq" right after an opaque directory's own entry);
//   - compressed (layer_compressor.h) into a blob of the content store,
//     hashed on the way: the uncompressed tar's SHA-256 is the diff id;
//   - the directory itself then moved into the layer store under that diff
//     id (it already has that layout), so nothing is unpacked again; when
//     the store has the layer already, the directory is deleted instead.
// Overlayfs's own bookkeeping attributes (origin, impure, nlink, upper)
// are removed from the directory before it is moved; a redirect or metacopy
// attribute (content left in a lower layer: the mount lacked
// redirect_dir=off,metacopy=off) is an error, never a silently wrong layer.
// File names are written as bytes (pax hdrcharset=BINARY), whatever the
// locale.
// Thread-safety: as ImageStore; the directory must not change meanwhile.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_compressor.h"

namespace berth {

struct PackedLayer {
  std::string diff_id;     // sha256 of the uncompressed tar
  std::string digest;      // the blob's, in the content store
  uint64_t size = 0;       // the blob's size
  std::string media_type;  // application/vnd.oci.image.layer.v1.tar+gzip (or +zstd)
  bool empty = false;      // the directory held nothing (docker keeps such layers too)
};

base::Result<PackedLayer> pack_layer(ImageStore& store, const std::string& dir,
                                     LayerCompression compression);

}  // namespace berth
