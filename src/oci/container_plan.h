// Everything `create` will do, decoded and validated from the bundle before
// anything is changed on the host: a bad config.json fails here, naming the
// field, with nothing created.
// Thread-safety: pure function; plain values.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "oci/config.h"
#include "oci/process_plan.h"
#include "oci/resources.h"
#include "oci/rootfs.h"

namespace oci {

struct ContainerPlan {
  std::string bundle;       // absolute
  std::string config_text;  // config.json as read (kept for exec)
  Config config;
  ProcessPlan process;
  RootfsPlan rootfs;
  Resources resources;
  int clone_flags = 0;    // CLONE_NEWUSER / CLONE_NEWPID, at clone time
  int unshare_flags = 0;  // the other new namespaces, unshared by init after joins
  std::vector<std::pair<int, std::string>> joins;  // (CLONE_NEW*, path) to setns
  std::string pid_ns_path;                         // a pid namespace to join
  // No new mount namespace: the one the container shares ("/proc/self/ns/mnt"
  // when inherited from the runtime, else the path it joins); "" otherwise.
  std::string shared_mount_ns;
};

struct PlanOptions {
  bool no_pivot = false;
  int preserve_fds = 0;
};

base::Result<ContainerPlan> plan_container(const std::string& bundle, const PlanOptions& o);
// Namespace type name ("network") -> CLONE_NEW* flag.
int namespace_flag(const std::string& type);
// /proc/<pid>/ns/ file name for a CLONE_NEW* flag ("net").
const char* namespace_file(int flag);

}  // namespace oci
