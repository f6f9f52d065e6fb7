// COPY's file work, by docker's rules (the Dockerfile reference, COPY):
//   - sources are paths relative to the source root (the build context, or
//     the root of an earlier stage or image for --from); the last component
//     may be a glob (fnmatch: * ? [...]); a directory source copies what it
//     holds, not itself; a file into a destination that ends in "/" or is a
//     directory keeps its name, else it takes the destination's;
//   - several sources (or a glob) need a destination ending in "/";
//   - missing parent directories are made 0755 root:root; copies keep their
//     mode and mtime and belong to root, or to --chown's ids, with
//     --chmod's mode when given; symlinks inside a copied directory are
//     copied as symlinks, never followed.
// Confinement: a source in the build context is opened with
// RESOLVE_BENEATH, so ".." or a symlink that leads out of the context is an
// error naming the source; a --from root and the destination are resolved
// with RESOLVE_IN_ROOT, as the container would see its own symlinks.
// Paths the context's .dockerignore excludes are neither found nor copied;
// a source is checked as the path it resolves to. A named source that is
// neither a regular file nor a directory (a device, a FIFO an earlier stage
// made) is refused: berth reads sources on the host.
// Errors are one line naming the source or destination (the caller adds
// the Dockerfile line and instruction).
// Thread-safety: none needed; each call owns its descriptors.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "berth/build/dockerignore.h"

namespace berth::build {

struct SourceRoot {
  int fd = -1;                           // an O_PATH directory
  bool context = false;                  // the build context: confined beneath, ignore applies
  const Dockerignore* ignore = nullptr;  // the context's, or none
  std::string what;                      // "the build context", "stage builder"
  // The context's real path: a source is checked against .dockerignore as
  // what it resolves to, so a symlink cannot lead around an exclusion.
  std::string real_root;
};

struct CopyRequest {
  std::vector<std::string> sources;  // as written, expanded
  std::string dest;                  // absolute (WORKDIR already applied)
  std::optional<uid_t> uid;          // --chown
  std::optional<gid_t> gid;
  std::optional<mode_t> mode;  // --chmod
};

// What the sources resolve to: each a path relative to the source root.
struct ResolvedSource {
  std::string path;  // what it resolves to (for the context: its real path in it)
  bool directory = false;
  std::string name;  // its last component as written: a file copied into a directory keeps it
};

base::Result<std::vector<ResolvedSource>> resolve_sources(const SourceRoot& from,
                                                          const CopyRequest& req);
// A resolved source file, opened to be read with the confinement above
// (O_NONBLOCK, so what became a FIFO cannot hang the build); an error unless
// it is still a regular file.
base::Result<base::UniqueFd> open_source_file(const SourceRoot& from, const std::string& rel);
// SHA-256 over every resolved input (relative path, type, mode, size,
// bytes, symlink target), each field prefixed with its length, so that no
// name, target or content can pass for other entries: the cache's view of
// the inputs. A file whose size changes while it is read is an error.
base::Result<std::string> digest_sources(const SourceRoot& from,
                                         const std::vector<ResolvedSource>& sources);
// mkdir -p of `path` (absolute) in the root `dest_root`; new directories
// are 0755, owned by `uid`:`gid` (WORKDIR's, as BuildKit makes them).
base::Status make_directory(int dest_root, const std::string& path, uid_t uid = 0, gid_t gid = 0);
// Copies into the root `dest_root` (an O_PATH directory: the step's rootfs).
base::Status copy_sources(const SourceRoot& from, const std::vector<ResolvedSource>& sources,
                          const CopyRequest& req, int dest_root);

}  // namespace berth::build
