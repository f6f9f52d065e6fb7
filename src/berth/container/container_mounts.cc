#include "berth/container/container_mounts.h"

#include <fmt/format.h>

#include "base/sys.h"
#include "berth/container/mount_options.h"
#include "berth/container/volumes.h"

namespace berth {
namespace {

using Kind = MountRequest::Kind;

nlohmann::json oci_options(const MountRequest& m) {
  // ro is recursive (rro), as docker 25's: a mount below the source is no way to write.
  nlohmann::json options =
      m.readonly ? nlohmann::json{"rbind", "ro", "rro"} : nlohmann::json{"rbind", "rw"};
  options.push_back(m.propagation.empty() ? "rprivate" : m.propagation);
  return options;
}

// The image's VOLUMEs (config.Volumes) that nothing given covers, as anonymous volumes.
std::vector<MountRequest> image_volumes(const nlohmann::json& image_config,
                                        const std::vector<MountRequest>& given) {
  std::vector<MountRequest> out;
  auto config = image_config.value("config", nlohmann::json::object());
  if (!config.is_object()) return out;
  auto volumes = config.value("Volumes", nlohmann::json::object());
  if (!volumes.is_object()) return out;
  for (const auto& [path, ignored] : volumes.items()) {
    std::string target = path;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (!plain_absolute(target)) continue;  // "/" or "..": docker refuses such images at run
    bool covered = false;
    for (const auto& m : given) covered = covered || m.target == target;
    for (const auto& m : out) covered = covered || m.target == target;
    if (covered) continue;
    MountRequest m;
    m.target = target;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

base::Result<MountPlan> plan_mounts(const std::string& root, const RunOptions& o,
                                    const nlohmann::json& image_config) {
  auto requests = TRY(mount_requests(o.volumes, o.mounts));
  for (auto& m : image_volumes(image_config, requests)) requests.push_back(std::move(m));
  // Every check first: a refusal leaves no volume made for nothing.
  for (const auto& m : requests)
    if (m.kind == Kind::kBind && !base::sys::fstatat(AT_FDCWD, m.source, 0))
      return base::fail_msg(
          fmt::format("-v '{}:{}': {} does not exist", m.source, m.target, m.source));
  MountPlan plan;
  for (const auto& m : requests) {
    if (m.kind == Kind::kTmpfs) {
      plan.tmpfs.push_back(m.target + (m.tmpfs_options.empty() ? "" : ":" + m.tmpfs_options));
      continue;
    }
    std::string source = m.source, mode = m.from_volume_flag ? "z" : "";
    nlohmann::json entry = {{"Type", m.kind == Kind::kBind ? "bind" : "volume"}};
    if (m.kind == Kind::kBind) {
      mode = m.readonly ? "ro" : "";
    } else {
      if (!plan.lock) plan.lock.emplace(TRY(lock_volumes(root)));
      Volume v = TRY(ensure_volume(root, m.source, m.labels, m.source.empty()));
      source = v.mountpoint;
      entry["Name"] = v.name;
      if (m.nocopy) mode = "nocopy";
    }
    plan.oci.push_back({{"destination", m.target},
                        {"type", "bind"},
                        {"source", source},
                        {"options", oci_options(m)}});
    entry["Source"] = source;
    entry["Destination"] = m.target;
    if (m.kind == Kind::kVolume) entry["Driver"] = "local";
    entry["Mode"] = mode;
    entry["RW"] = !m.readonly;
    entry["Propagation"] =
        m.kind == Kind::kBind ? (m.propagation.empty() ? "rprivate" : m.propagation) : "";
    plan.docker.push_back(std::move(entry));
  }
  return plan;
}

base::Status fill_volumes(const std::string& root, const nlohmann::json& mounts,
                          const std::string& rootfs) {
  std::optional<base::FileLock> lock;
  for (const auto& m : mounts) {
    if (m.value("Type", "") != "volume" || m.value("Mode", "") == "nocopy") continue;
    if (!lock) lock.emplace(TRY(lock_volumes(root)));
    Volume v = TRY(find_volume(root, m.value("Name", "")));
    if (auto s = fill_volume(v.mountpoint, rootfs, m.value("Destination", "/")); !s)
      return base::fail(std::move(s).error().context(fmt::format("filling volume {}", v.name)));
  }
  return {};
}

}  // namespace berth
