// Unpacks a tar stream through a LayerWriter (layer_writer.h), entry by
// entry: the one reader of tar entries for pulled and loaded layers
// (layer_store.cc) and for archives `berth build`'s ADD unpacks.
// Entry names are cleaned: "./" prefixes and trailing "/" go; absolute names
// and ".." components are errors naming the entry. Hard links must point at
// an earlier entry of the same archive. Files keep the archive's mode,
// owner, times and extended attributes; sockets are skipped.
// Thread-safety: one call per writer, on one thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "base/error.h"
#include "berth/image/layer_writer.h"

namespace berth {

struct TarUnpackOptions {
  // Where below the writer's root every entry goes ("" for the root itself;
  // relative, no ".."): hard-link targets are taken as below it too.
  std::string prefix;
  // An image layer: OCI whiteouts (".wh.NAME", ".wh..wh..opq") become
  // overlayfs ones. Otherwise a ".wh." name is an error: it would read as a
  // whiteout once the files are packed into a layer again.
  bool whiteouts = true;
  // gzip, bzip2, xz or zstd compression is undone here (docker's list and
  // zstd); without it the stream must be a plain tar.
  bool decompress = false;
  // Every entry's owner (uid, gid) instead of the archive's; setuid and
  // setgid bits are then dropped. `berth cp -` into a container, without -a.
  std::optional<std::pair<uid_t, gid_t>> owner;
};

// Unpacks the tar read from `fd` (to its end-of-archive blocks); `what` names
// the archive in errors.
base::Status unpack_tar(int fd, LayerWriter& out, const TarUnpackOptions& options,
                        const std::string& what);

// Whether the stream read from `fd` is a tar archive once decompressed
// (gzip, bzip2, xz or zstd): its first header reads as one (an empty
// stream, or end-of-archive blocks alone, is not). Reads from
// `fd`'s current offset; the caller reopens or seeks to unpack it.
bool is_tar_archive(int fd);

}  // namespace berth
