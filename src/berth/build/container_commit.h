// `docker commit`: a container's changes as a new image. The layer is
// what the container changed (its overlay upper directory, as `diff`
// sees it: the engine's mount points left out), copied while the
// container is frozen (unless `pause` is off) and packed as build steps
// are; the config is the container's own (Env, Cmd, Entrypoint,
// WorkingDir, User, Labels, ExposedPorts, Volumes as it ran: docker's
// rule) over its image's, with `changes` applied and a history entry.
// Only named images are kept by berth: `name` is required.
// Known gap: a directory the container emptied and made again (an opaque
// directory) comes back with its image's files.
// Thread-safety: as ImageStore; the container is frozen meanwhile.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container/container_record.h"
#include "berth/image/layer_compressor.h"

namespace berth::build {

struct CommitOptions {
  std::string name;                  // REPO[:TAG]
  std::string message, author;       // -m, -a
  std::vector<std::string> changes;  // -c: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, WORKDIR,
                                     // STOPSIGNAL, VOLUME
  bool pause = true;
  LayerCompression compression = LayerCompression::kGzip;
};

// Returns the new image's id (its config digest).
base::Result<std::string> commit_container(const Paths& p, const std::string& container,
                                           const CommitOptions& o);

}  // namespace berth::build
