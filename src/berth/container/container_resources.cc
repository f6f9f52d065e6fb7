#include "berth/container/container_resources.h"

#include <sys/mount.h>
#include <cerrno>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/fault_injection.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "berth/container/container_network.h"
#include "oci/cgroup.h"
#include "oci/lifecycle.h"
#include "oci/state.h"

namespace berth {
namespace {

// Unmounts `rootfs` if something is mounted there.
base::Status unmount(const std::string& rootfs) {
  auto s = base::sys::umount2(rootfs, MNT_DETACH);
  if (!s && s.error().code() != EINVAL && s.error().code() != ENOENT) return s;
  return {};
}

}  // namespace

std::string cgroups_path_of(const std::string& id) {
  return "/berth/" + id;
}

base::Result<RootMount> RootMount::mount(const std::string& dir, const std::string& id) {
  TRY_STATUS(base::inject("start.mount"));
  std::string rootfs = dir + "/bundle/rootfs";
  std::string lower = TRY(base::read_text(dir + "/lowerdirs"));
  for (size_t start = 0; start <= lower.size();) {
    size_t colon = lower.find(':', start);
    std::string layer =
        lower.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!base::path_exists(layer))
      return base::fail_msg(
          fmt::format("container {}: its image layer {} is gone (was the image removed?)",
                      id.substr(0, 12), layer));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  // Every change lands whole in upper/ (no redirects, no metadata-only
  // copy-ups), as docker mounts it: upper/ is what `berth build` packs.
  std::string data = fmt::format(
      "lowerdir={},upperdir={}/upper,workdir={}/work,redirect_dir=off,metacopy=off,index=off",
      lower, dir, dir);
  TRY_STATUS(unmount(rootfs));  // a stale mount from a monitor that died
  TRY_STATUS(base::sys::mount("overlay", rootfs, "overlay", 0, data, rootfs));
  return RootMount(rootfs);
}

RootMount::~RootMount() {
  if (!rootfs_.empty()) (void)unmount(rootfs_);
}

base::Result<NetworkLease> NetworkLease::take(const Paths& p, ContainerRecord& rec,
                                              const std::string& dir) {
  std::string mode = rec.network.value("mode", "");
  if (mode != "container" && mode != "bridge") return NetworkLease(p, "");
  TRY_STATUS(base::inject("start.network"));
  if (mode == "container") {
    TRY_STATUS(join_network_of({p.root, p.run_root}, rec, dir));
    return NetworkLease(p, "");  // another container's: nothing of ours to undo
  }
  // A failed attach detaches itself (container_network.h).
  auto a = TRY(attach_network({p.root, p.run_root}, rec.id, rec.name, rec.network, dir));
  rec.network["address"] = a.address;
  return NetworkLease(p, rec.id);
}

NetworkLease::NetworkLease(NetworkLease&& o) noexcept
    : paths_(std::move(o.paths_)), id_(std::move(o.id_)) {
  o.id_.clear();
}

NetworkLease::~NetworkLease() {
  if (!id_.empty()) (void)detach_network({paths_.root, paths_.run_root}, id_);
}

base::Status release_runtime(const Paths& p, const std::string& id) {
  TRY_STATUS(base::inject("release.runtime"));
  std::string state = oci::container_dir(p.run_root, id);
  if (base::path_exists(state + "/state.json"))
    TRY_STATUS(oci::delete_container(p.run_root, id, true));
  else  // a runtime killed before it recorded anything: only the directory
    TRY_STATUS(base::remove_tree(state));
  // A runtime killed after making the cgroup, before recording it.
  if (auto cg = TRY(oci::Cgroup::existing(cgroups_path_of(id), id))) TRY_STATUS(cg->destroy());
  return {};
}

base::Status release_root(const std::string& dir) {
  TRY_STATUS(base::inject("release.mount"));
  return unmount(dir + "/bundle/rootfs");
}

base::Status release_network(const Paths& p, const std::string& id) {
  TRY_STATUS(base::inject("release.network"));
  return detach_network({p.root, p.run_root}, id);
}

base::Status release_host_resources(const Paths& p, const std::string& id, const std::string& dir) {
  base::Status runtime = release_runtime(p, id);
  base::Status root = release_root(dir);
  base::Status network = release_network(p, id);
  if (!runtime) return runtime;
  if (!root) return root;
  return network;
}

}  // namespace berth
