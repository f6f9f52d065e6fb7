// `docker diff`: what a container changed in its root, read from its
// overlay upper directory (<dir>/upper) against its image's layers
// (<dir>/lowerdirs, topmost first):
//   "A /path"  added: in upper/ and in no layer;
//   "C /path"  changed: in upper/ and in a layer (a directory: when
//              something below it changed);
//   "D /path"  deleted: an overlayfs whiteout in upper/.
// The engine's and the runtime's own mount points (the mounts in the
// bundle's config.json: /proc, /dev, /etc/hosts, volumes ...) are not the
// container's changes and are left out, with a directory made only to hold
// them, as docker's separate init layer keeps them out of its diff.
// Sorted by path, as docker sorts them. Layers are looked into beneath
// their directories, never through a symlink.
// Thread-safety: reads only; the container may run meanwhile.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace berth {

struct Change {
  char kind = 'C';  // 'A', 'C' or 'D'
  std::string path;
};

base::Result<std::vector<Change>> container_changes(const std::string& dir);

}  // namespace berth
