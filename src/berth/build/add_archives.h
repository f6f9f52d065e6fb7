// ADD's local archives, by docker's rule (the Dockerfile reference, ADD): a
// named source file that reads as a tar archive, plain or compressed (gzip,
// bzip2, xz, zstd), is unpacked into the
// destination, which is then a directory, merged with what is there;
// anything else (a compressed file that holds no tar, an empty file) is
// copied as COPY would. Unpacked entries keep the archive's owners, modes and
// times; --chown and --chmod apply to the copied sources only. Entries are
// written below the destination (tar_unpack.h): no absolute names, no
// ".."; a ".wh." name in any component is refused, since it would read as
// a whiteout in the step's layer.
// Thread-safety: none needed; each call owns its descriptors.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/build/copy_files.h"

namespace berth::build {

// Moves the sources that are tar archives out of `sources` and returns them.
base::Result<std::vector<ResolvedSource>> take_archives(const SourceRoot& from,
                                                        std::vector<ResolvedSource>& sources);

// Unpacks each archive into the directory `dest` (absolute) of the root
// `dest_root` (an O_PATH directory: the step's rootfs), making it (0755
// root:root) when missing. Paths resolve in the root as the container would
// see its symlinks (an entry lib/x lands in usr/lib when /lib links there,
// as docker's ADD does), never out of it; what holds an entry's own name is
// replaced, never written through (layer_writer.h).
base::Status unpack_archives(const SourceRoot& from, const std::vector<ResolvedSource>& archives,
                             const std::string& dest, int dest_root);

}  // namespace berth::build
