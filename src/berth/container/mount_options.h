// docker's two ways of asking for a mount, read into one shape:
//   -v SOURCE:TARGET[:MODES]  SOURCE absolute: a bind of that host path;
//                             else the named volume SOURCE (made when missing);
//   -v TARGET                 an anonymous volume (a new one, random name);
//   MODES: ro|rw, nocopy (volumes), z|Z (SELinux labels: no effect here),
//          a propagation (private, rprivate, shared, rshared, slave, rslave)
//          and a consistency (consistent, cached, delegated: no effect), comma-separated.
//   --mount type=volume|bind|tmpfs,source=S,target=T[,readonly][,volume-nocopy]
//           [,volume-label=K=V][,bind-propagation=P][,tmpfs-size=N][,tmpfs-mode=M]
//           (docker's CSV: a field may be quoted; src, dst, destination and ro
//           are the same keys; type defaults to volume).
// What docker refuses is refused here, one line naming the flag and value:
// a relative or "/" target, a volume name outside [a-zA-Z0-9][a-zA-Z0-9_.-]+,
// an unknown mode or key, nocopy on a bind, a --mount bind source that does
// not exist. Parsing only: nothing is made or looked up but that stat.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace berth {

struct MountRequest {
  enum class Kind { kBind, kVolume, kTmpfs };
  Kind kind = Kind::kVolume;
  std::string source;  // bind: the host path; volume: its name ("" for a new anonymous one)
  std::string target;  // absolute, cleaned
  bool readonly = false;
  bool nocopy = false;                        // volume: not filled from the image
  std::string propagation;                    // bind: "" (rprivate) or one of the names above
  std::map<std::string, std::string> labels;  // volume-label: for a volume made here
  std::string tmpfs_options;                  // tmpfs: "size=N,mode=M" (--tmpfs's form)
  bool from_volume_flag = false;              // -v (docker's Mode "z"), not --mount
};

// `path` absolute and of plain names: no "..", ".", empty name or trailing
// "/" (what the runtime refuses).
bool plain_absolute(const std::string& path);
// docker's rule for a local volume's name.
bool valid_volume_name(const std::string& name);

base::Result<MountRequest> parse_volume_flag(const std::string& value);  // -v
base::Result<MountRequest> parse_mount_flag(const std::string& value);   // --mount

// Every -v, then every --mount; a target asked for twice is an error
// ("duplicate mount point"), as in docker.
base::Result<std::vector<MountRequest>> mount_requests(const std::vector<std::string>& volumes,
                                                       const std::vector<std::string>& mounts);

}  // namespace berth
