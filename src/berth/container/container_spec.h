// The OCI config.json for a berth container: the image's config (Env,
// Entrypoint, Cmd, WorkingDir, User) merged with `berth run`'s options, on
// berth-oci's default spec with Docker's default capability set.
// Thread-safety: pure function.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

struct RunOptions {
  std::string image;
  std::vector<std::string> command;  // replaces the image's Cmd
  std::optional<std::string> entrypoint;
  std::string name;
  std::vector<std::string> env;      // NAME=VALUE
  std::vector<std::string> volumes;  // -v values (mount_options.h)
  std::vector<std::string> mounts;   // --mount values
  std::string workdir;
  std::string user;  // UID[:GID]
  std::string hostname;
  std::map<std::string, std::string> log_options;  // --log-opt (log_files.h)
  std::optional<int64_t> memory;                   // bytes
  std::optional<double> cpus;
  std::optional<int64_t> pids_limit;
  bool read_only = false;
  std::string network = "berth0";    // none | host | a bridge network's name
  std::vector<std::string> publish;  // -p values
  std::vector<std::string> expose;   // --expose: PORT[-END][/PROTO], added to the image's
  bool publish_all = false;          // -P
  bool detach = false;
  bool remove = false;
  bool interactive = false;        // -i
  bool tty = false;                // -t
  std::string restart = "no";      // no | on-failure[:N] | always
  bool seccomp = true;             // false: --security-opt seccomp=unconfined
  bool no_new_privileges = false;  // --security-opt no-new-privileges: setuid gains nothing
  // Docker's other run flags (spec_options.h turns them into the spec).
  std::vector<std::string> cap_add, cap_drop;  // names, with or without CAP_; ALL
  bool privileged = false;
  std::vector<std::string> devices;     // HOST[:CONTAINER[:rwm]]
  std::vector<std::string> tmpfs;       // PATH[:OPTIONS]
  std::vector<std::string> sysctls;     // NAME=VALUE
  std::vector<std::string> ulimits;     // NAME=SOFT[:HARD]
  std::vector<std::string> group_add;   // names (the image's /etc/group) or numbers
  std::optional<int64_t> shm_size;      // bytes of /dev/shm
  std::string ipc, pid, uts, cgroupns;  // "" (private), or "host"
  std::string domainname;
  std::optional<int> oom_score_adj;
  std::optional<int64_t> cpu_shares;
  std::string cpuset_cpus, cpuset_mems;
  std::string init_path;  // --init: berth-init on the host, run as the container's pid 1
  // Kept in the record and its files, not the spec:
  std::vector<std::string> add_hosts;                     // HOST:IP lines for /etc/hosts
  std::vector<std::string> dns, dns_search, dns_options;  // /etc/resolv.conf
  std::map<std::string, std::string> labels;
  std::string stop_signal;          // "" : SIGTERM
  std::optional<int> stop_timeout;  // seconds; default 10
  // Health checks (health.h): --health-cmd (a shell command) and the rest.
  std::optional<std::string> health_cmd;
  std::string health_interval, health_timeout, health_start_period;  // Go durations
  std::optional<int> health_retries;
  bool no_healthcheck = false;
};

// Reads a docker --env-file: NAME=VALUE lines; "#" comments and blank lines
// are skipped; a bare NAME takes the value from berth's own environment.
base::Result<std::vector<std::string>> read_env_file(const std::string& path);

struct SpecPaths {
  std::string rootfs;  // the overlay mount point
  std::string hosts, hostname, resolv_conf;
  std::string netns;  // a bridge network's namespace file; empty: a new, empty namespace
  // The image's /etc/passwd and /etc/group (empty when it has none): user
  // and group names in --user and the image's User are looked up there.
  std::string passwd, group;
  // Why a file could not be read (a device, too large): a name lookup in it
  // then fails with this; numeric ids need neither file.
  std::string passwd_error, group_error;
  // The binds and volumes as OCI mounts (container_mounts.h plan_mounts).
  nlohmann::json mounts = nlohmann::json::array();
};

// The image's /etc/passwd and /etc/group into `paths`, read through its
// layers (lowest first) from the topmost that has each, beneath that
// layer's directory (no symlink reaches a host file; a device, a FIFO or a
// file over 1 MiB is refused, and why goes to the *_error member).
void read_accounts(const std::vector<std::string>& layers, SpecPaths& paths);

// A group number, or a name from `files`' group file, as an id; errors
// begin with `what` ("--group-add 'staff'").
base::Result<uint64_t> group_id_of(const std::string& group, const SpecPaths& files,
                                   std::string_view what);

// USER[:GROUP], each a number or a name from `files`' passwd and group:
// {"uid", "gid", "additionalGids"} as an OCI process user. Errors name
// `flag` ("--user", "--chown") and the value.
base::Result<nlohmann::json> user_of(const std::string& user, const SpecPaths& files,
                                     std::string_view flag = "--user");

base::Result<nlohmann::json> make_spec(const RunOptions& o, const nlohmann::json& image_config,
                                       const std::string& id, const SpecPaths& paths);

}  // namespace berth
