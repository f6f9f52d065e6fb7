// Helpers for berth-oci's end-to-end tests: a bundle with a busybox rootfs and
// a config.json made by `berth-oci spec` (then edited by the test), a private
// state directory, and runners for the real binary. The destructor force-deletes
// the container and removes everything the bundle made.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace ocitest {

std::string berth_oci_bin();
// A unique container id for this test process ("t<pid>-<n>").
std::string unique_id();

class Bundle {
 public:
  Bundle();
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  nlohmann::json config;  // edit, then save() (run/create save it too)
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_ / "rootfs"; }
  const std::string& state_root() const { return state_.path(); }
  const std::string& id() const { return id_; }

  void save();
  // `berth-oci --root <state> ARGS...`
  e2e::ProcResult oci(std::vector<std::string> args);
  // Sets process.args to `sh -c SCRIPT`, saves and runs the container to the end.
  e2e::ProcResult run_sh(const std::string& script);
  // Runs the container with process.args as configured.
  e2e::ProcResult run();
  // create + start in the background with `sleep` as the program; returns the init pid.
  int start_sleeping();
  // The container's status from `berth-oci state` ("" if it has no state).
  std::string status();

 private:
  e2e::TempDir dir_;
  e2e::TempDir state_;
  std::string id_;
};

// Hex masks from /proc/<pid>/status, e.g. field("CapEff").
std::string status_field(const std::string& status_text, const std::string& name);
// The capability mask for a list of CAP_* numbers.
std::string cap_mask(std::initializer_list<int> caps);
// True if any cgroup hierarchy still has a directory named `id` below it.
bool cgroup_dir_exists(const std::string& id);
// A busybox rootfs (a Bundle's) as a tar file `dir`/rootfs.tar, the input of
// `podman import`, `docker import` and buildah's ADD.
std::string rootfs_tar(const std::string& dir);
// Unmounts everything at or below `dir`, deepest first (what a client left).
void unmount_below(const std::string& dir);

}  // namespace ocitest
