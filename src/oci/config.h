// The OCI runtime configuration (a bundle's config.json), as typed values.
//
// parse_config() reads the parts of the runtime spec that Linux uses and
// validates them as it goes: every problem is reported with the JSON path of
// the field ("process.args[0]: must be a string"), never as a crash, and
// nothing is half-applied because nothing is applied here at all. Resources
// (cgroups) and seccomp are kept as raw JSON for their own modules to parse.
// Thread-safety: pure function; plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace oci {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE", ...
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Process {
  bool terminal = false;
  uint32_t console_height = 0;  // consoleSize: the pty's initial size (0 = unset)
  uint32_t console_width = 0;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile, selinux_label;  // refused unless empty (plan_process)
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this one instead of creating one
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::string cgroups_path;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string rootfs_propagation;
  nlohmann::json resources;  // parsed by the cgroup module
  nlohmann::json seccomp;    // parsed by the seccomp module
  nlohmann::json devices;
  std::string mount_label;  // SELinux; see plan_container
};

struct Config {
  std::string oci_version;
  std::optional<Process> process;  // optional for `create` only on some runtimes; start needs it
  std::string root_path;
  bool root_readonly = false;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_section;  // "linux" (a predefined macro in GNU C++)
};

base::Result<Config> parse_config(const nlohmann::json& j);
// A "process" object alone (exec --process); `path` prefixes error paths.
base::Result<Process> parse_process_json(const nlohmann::json& j, const std::string& path);
// Reads and parses `path` (a bundle's config.json).
base::Result<Config> load_config(const std::string& path);

}  // namespace oci
