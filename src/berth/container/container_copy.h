// `docker cp` and `docker export`: files between a container's root and
// the host, by docker's rules for what the destination becomes:
//   a file to a missing path: that file (its directory must exist); to a
//     directory: a file of its name in it; to a path ending in "/" that
//     does not exist: an error;
//   a directory to a missing path: that directory, with what it holds; to
//     a directory: a directory of its name in it, or (a source ending in
//     "/.") what it holds; to a file: an error;
//   "-" as the destination: a tar of the source on `out`; "-" as the
//     source: a tar read from `in`, unpacked into the destination directory.
// Paths in the container are resolved as the container sees them (its
// symlinks followed, never out of its root: RESOLVE_IN_ROOT) and written
// through a LayerWriter, so no name in the container, and no tar entry,
// leads a write elsewhere; what is read in the container is opened only as
// the regular file or directory it was seen to be, never a device. Copies
// out belong to the user running berth, without device nodes or setuid and
// setgid bits, and a single file lands whole (a temporary name, then a
// rename); copies in (a tar's entries too) belong to root, or with
// `archive` (-a) keep their owners. The root is the container's overlay
// (containers.h with_container_root): its volumes and binds are not reached.
// Thread-safety: as with_container_root.
#pragma once

#include <string>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

// CONTAINER:SRC -> host DEST (or "-": a tar on `out`). A symlink SRC is
// copied as the link unless `follow` (-L).
base::Status copy_from_container(const Paths& p, const std::string& container,
                                 const std::string& src, const std::string& dest, bool follow,
                                 int out);
// host SRC (or "-": a tar read from `in`) -> CONTAINER:DEST.
base::Status copy_to_container(const Paths& p, const std::string& src, const std::string& container,
                               const std::string& dest, bool archive, int in);
// The container's whole root as a tar on `out` (`export`).
base::Status export_container(const Paths& p, const std::string& container, int out);

}  // namespace berth
