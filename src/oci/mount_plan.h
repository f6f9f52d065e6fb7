// A config.json mount's options, decoded into mount(2) arguments before the
// container process is started, so a bad option fails `create` early.
// Thread-safety: pure function; plain values.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/config.h"

namespace oci {

struct MountPlan {
  std::string source;       // absolute (relative bind sources are resolved against the bundle)
  std::string destination;  // inside the container
  std::string type;         // "bind" for bind mounts
  unsigned long flags = 0;  // MS_RDONLY, MS_NOSUID, ... (without MS_BIND/MS_REC)
  unsigned long clear = 0;  // flags explicitly turned off (rw, suid, ...)
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC)
  bool bind = false;
  bool recursive = false;
  // Recursive attributes ("rro", "rnosuid", ... as runc and crun): MOUNT_ATTR_*
  // bits set or cleared on the mount and every mount below it.
  uint64_t recursive_set = 0;
  uint64_t recursive_clear = 0;
  std::string data;  // filesystem options ("size=64m,mode=755")
};

// `index` names the mount in errors: "mounts[3].options: unknown option 'foo'".
base::Result<MountPlan> plan_mount(const Mount& m, size_t index, const std::string& bundle);

}  // namespace oci
