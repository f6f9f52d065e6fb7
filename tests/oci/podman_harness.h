// Podman with private storage, for tests that drive it: --root, --runroot and
// --tmpdir in a temporary directory, the cgroupfs manager, events to a file,
// and the OCI runtime the test names (berth-oci unless told otherwise). The
// destructor removes every container and image, unmounts what is left below
// the directory, and removes podman's conmon cgroup parent when it is empty.
//
// Not thread-safe; one test uses each object.
#pragma once

#include <string>
#include <vector>

#include "tests/oci/oci_harness.h"

namespace ocitest {

inline constexpr const char* kPodman = "/usr/bin/podman";

class Podman {
 public:
  // `runtime`: a path or a name podman knows ("crun", "runc").
  explicit Podman(std::string runtime = berth_oci_bin());
  ~Podman();
  Podman(const Podman&) = delete;
  Podman& operator=(const Podman&) = delete;

  // podman --root ... ARGS...
  e2e::ProcResult run(std::vector<std::string> args);
  const e2e::TempDir& dir() const { return dir_; }

 private:
  e2e::TempDir dir_;
  std::string runtime_;
};

}  // namespace ocitest
