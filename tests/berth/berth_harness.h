// Shared fixtures of the berth end-to-end suites:
//  - Engine: a private berth store (--root/--run-root in a temp dir) with a
//    busybox image imported as localhost/box; removes its containers at the end;
//  - make_busybox_root(): a minimal root filesystem (busybox-static + applets);
//  - Registry: Debian's docker-registry on 127.0.0.1 (plain HTTP, TLS, or
//    token auth with tests/berth/fixtures/token_server.py), stopped at the end;
//  - StaticRegistry: a fake registry serving whatever files the test wrote;
//  - OciLayout: builds OCI image layouts (layers, images, indexes) that
//    skopeo pushes to a Registry.
#pragma once

#include <sys/types.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace bt {

using nlohmann::json;

void make_busybox_root(const std::string& dir);
// Adds the ferry binary (bin/ferry) and the shared libraries it loads.
void add_ferry(const std::string& root);
std::string sha256_of_file(const std::string& path);  // "sha256:<hex>"
int free_port();

// A berth store, and a network namespace of its own that every berth command
// (and so every container monitor) runs in: bridges, veths, nftables rules
// and forwarding stay inside it, and go with it.
class Engine {
 public:
  // With `import_box`, localhost/box is imported from make_busybox_root().
  // Without `own_netns`, berth runs in the test's namespace (to reach a
  // registry on 127.0.0.1); its containers then use --network none.
  explicit Engine(bool import_box = true, bool own_netns = true);
  // A second berth root in `neighbour`'s network namespace (two CI jobs on
  // one host); the namespace stays `neighbour`'s.
  struct SameNetns {
    const Engine& neighbour;
  };
  explicit Engine(SameNetns same);
  ~Engine();
  // The engine's network namespace: a name for `ip netns exec`, and its file.
  const std::string& netns() const { return netns_; }
  std::string netns_file() const { return "/run/netns/" + netns_; }
  // argv run inside the engine's network namespace.
  std::vector<std::string> in_netns(std::vector<std::string> argv) const;
  std::vector<std::string> command(std::vector<std::string> args) const;
  e2e::ProcResult berth(std::vector<std::string> args) const;
  std::string store(const std::string& rel) const { return dir_ / ("store/" + rel); }
  // What this root names its default bridge and its nftables table (the
  // contract of berth's HostNames: a tag of 8 hex digits of the SHA-256 of
  // the root's path, as this is not the default root).
  std::string bridge() const { return "berth0-" + root_tag(); }
  std::string table() const { return "berth_" + root_tag(); }
  std::string root_tag() const;
  std::string path(const std::string& rel) const { return dir_ / rel; }
  static std::vector<std::string> split(const std::string& s);

  // What this root still holds on the host, one line each, "" for none:
  // network_leftovers(): its veths (vb<id>) on its bridge, reserved
  // addresses and attachments under networks/, definitions left
  // half-written there, DNAT rules in its table.
  std::string network_leftovers() const;
  // host_traces(): those, and for the container ids given (and any still
  // under containers/) their mounts, cgroup directories in every
  // hierarchy, berth-oci state, and the directories themselves.
  std::string host_traces(const std::set<std::string>& ids) const;
  // Every id under containers/ (.removing-<id> included).
  std::set<std::string> container_ids() const;
  // Every berth process of this root (commands and monitors; not the
  // containers' programs), and SIGKILL to them: a crash of the engine.
  std::vector<pid_t> engine_processes() const;
  void kill_engine_processes() const;

 private:
  void import_box();
  e2e::TempDir dir_;
  std::string netns_;
  bool owns_netns_ = false;
};

class Registry {
 public:
  // kBasicAuth: TLS plus an htpasswd (bcrypt) user, as distribution requires.
  enum class Kind { kPlainHttp, kTls, kTokenAuth, kBasicAuth };
  static constexpr const char* kUser = "tester";
  static constexpr const char* kPassword = "s3cret-pass";
  // With `netns_file`, the registry (and its token server) listens in that
  // network namespace (a private dockerd's, to reach it there).
  explicit Registry(Kind kind, std::string netns_file = {});
  ~Registry();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string ca_cert() const { return dir_ / "tls.crt"; }  // kTls, kBasicAuth
  std::string token_log() const { return e2e::read_file(dir_ / "tokens.log"); }
  // skopeo copy --all oci:LAYOUT:TAG docker://HOST/REPO_TAG; returns skopeo's exit code.
  e2e::ProcResult push(const std::string& layout, const std::string& tag,
                       const std::string& repo_tag) const;

 private:
  // argv run in the registry's network namespace.
  std::vector<std::string> in_netns(std::vector<std::string> argv) const;
  bool listening(int port) const;
  Kind kind_;
  std::string netns_file_;
  int port_ = 0;
  e2e::TempDir dir_;
  std::unique_ptr<e2e::Process> registry_;
  std::unique_ptr<e2e::Process> tokens_;
};

class StaticRegistry {
 public:
  // With `rate` (bytes per second), blobs are sent that slowly.
  explicit StaticRegistry(int rate = 0);
  ~StaticRegistry();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void manifest(const std::string& ref, const std::string& body, const std::string& type = {});
  void blob(const std::string& digest, const std::string& bytes);

 private:
  int port_ = 0;
  e2e::TempDir dir_;
  std::unique_ptr<e2e::Process> server_;
};

class OciLayout {
 public:
  explicit OciLayout(std::string dir);
  const std::string& dir() const { return dir_; }
  // A layer of `root`'s contents: compression "gzip", "zstd" or "none".
  // Returns its descriptor, with "diff_id" added (drop it before use in a manifest).
  json add_layer(const std::string& root, const std::string& compression);
  // An image of `layers` (from add_layer) for linux/`arch`; returns its
  // manifest descriptor with its platform.
  json add_image(const std::vector<json>& layers, const std::string& arch,
                 const std::vector<std::string>& cmd = {"sh"});
  // An index (manifest list) of `manifests`; returns its descriptor.
  json add_index(const std::vector<json>& manifests);
  // Names `descriptor` `tag` in index.json.
  void tag(json descriptor, const std::string& tag);
  // Stores `bytes` as a blob; returns its digest.
  std::string put_blob(const std::string& bytes);

 private:
  std::string dir_;
  json index_;
};

}  // namespace bt
