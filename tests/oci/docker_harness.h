// Helpers for driving berth-oci through Docker and buildah: a dockerd of the
// test's own, a buildah with private storage, a pty for `docker run -it`, and
// cgroup lookups for a container's process.
//
// Dockerd: the real /usr/sbin/dockerd (which starts its own containerd) in a
// new network namespace (`unshare --net`, so the namespace dies with the last
// process in it), with --data-root, --exec-root, --pidfile, the API socket and
// an empty daemon.json in a temporary directory, the cgroupfs driver, a unique
// relative --cgroup-parent, and berth-oci added as the runtime "berth". The
// destructor removes every container, leaves a swarm, stops dockerd with
// SIGTERM (then kills, by pid, any shim of ours still alive), unmounts what is
// left below the directory, removes the cgroup parent in every hierarchy and
// the directory, and removes /run/containerd/s, /run/docker/plugins (the two
// paths dockerd and its shims use outside the exec-root) when they were made
// by us and are empty.
//
// Buildah: /usr/bin/buildah with --root/--runroot in a temporary directory, the
// vfs driver, the cgroupfs manager, and berth-oci as its OCI runtime (its state
// under the directory too). Each call runs in a private mount namespace with a
// tmpfs on /var/lib, because containers/image keeps its blob-info cache for
// root in /var/lib/containers and has no flag to move it.
//
// Not thread-safe; one test uses each object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/oci/oci_harness.h"

namespace dockertest {

// Waits for a condition that runs a command (docker inspect, ps): polled
// every 100 ms, for at most `limit`.
inline bool poll_until(const std::function<bool()>& cond,
                       std::chrono::seconds limit = std::chrono::seconds(60)) {
  return e2e::eventually(cond, limit, std::chrono::milliseconds(100));
}

inline constexpr const char* kDocker = "/usr/bin/docker";  // Debian's 20.10 client
inline constexpr const char* kDockerd = "/usr/sbin/dockerd";
inline constexpr const char* kBuildah = "/usr/bin/buildah";
inline constexpr const char* kImage = "localhost/berth-test:latest";

// Trims trailing whitespace.
std::string trim(std::string s);

// The host directory of the cgroup `pid` is in for `controller` ("memory",
// "freezer", ...; "" for the cgroup v2 hierarchy), or "" when there is none.
std::string cgroup_dir(pid_t pid, const std::string& controller);

struct DockerdOptions {
  bool berth_default = false;  // --default-runtime berth
};

class Dockerd {
 public:
  explicit Dockerd(DockerdOptions opts = {});
  ~Dockerd();
  Dockerd(const Dockerd&) = delete;
  Dockerd& operator=(const Dockerd&) = delete;

  // Whether the API answered; `log()` says why not.
  bool ready() const { return ready_; }
  std::string log() const;
  // `docker -H unix://<sock> ARGS...`
  e2e::ProcResult docker(std::vector<std::string> args,
                         std::chrono::seconds limit = std::chrono::seconds(120));
  // The command line of that client call (for running it elsewhere, e.g. on a pty).
  std::vector<std::string> docker_argv(std::vector<std::string> args) const;
  // ARGV run inside dockerd's network namespace (nsenter --net).
  e2e::ProcResult in_netns(std::vector<std::string> argv);
  // `docker import` of the busybox rootfs as kImage.
  e2e::ProcResult import_image();
  // docker inspect -f FORMAT NAME, trimmed.
  std::string inspect(const std::string& name, const std::string& format);
  // berth-oci's state directory as dockerd configures it for containerd's shim.
  std::string runtime_root() const { return dir_ / "exec/runtime-runc/moby"; }
  // The log berth-oci writes for a container (the shim passes --log), or "".
  std::string runtime_log(const std::string& container_id) const;

  pid_t pid() const;
  const std::string& dir() const { return dir_.path(); }
  const std::string& cgroup_parent() const { return parent_; }
  std::string netns_path() const;
  // "net:[INODE]" of dockerd's namespace, recorded once it answered.
  std::string netns_id() const;
  // The cgroup-parent directories in every hierarchy (existing or not).
  std::vector<std::string> cgroup_parent_dirs() const;

 private:
  void shutdown();

  e2e::TempDir dir_;
  std::string parent_;
  std::unique_ptr<e2e::Process> daemon_;
  std::string netns_;
  bool ready_ = false;
  bool had_run_containerd_ = false;
  bool had_run_docker_ = false;
};

class Buildah {
 public:
  Buildah();
  ~Buildah();
  Buildah(const Buildah&) = delete;
  Buildah& operator=(const Buildah&) = delete;
  // buildah --root ... ARGS...
  e2e::ProcResult run(std::vector<std::string> args);
  // The flags that make a `bud` or `run` use berth-oci.
  std::vector<std::string> runtime_flags() const;
  const std::string& dir() const { return dir_.path(); }
  // A unique --cgroup-parent for `bud`; removed in every hierarchy afterwards.
  const std::string& cgroup_parent() const { return parent_; }

 private:
  e2e::TempDir dir_;
  std::string parent_;
};

// The result of a program run on a pty.
struct PtyResult {
  int exit_code = -1;
  std::string out;  // everything read from the master side
};

// Runs ARGV as a session leader with a new pty (of `rows` x `cols`) as its
// controlling terminal and stdio; writes `input` to the master, reads until the
// program closes the terminal or `limit` passes (then kills it).
PtyResult run_on_pty(const std::vector<std::string>& argv, const std::string& input,
                     unsigned short rows, unsigned short cols,
                     std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace dockertest
