#include "berth/container/volumes.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "berth/container/container_record.h"
#include "berth/container/events.h"
#include "berth/container/mount_options.h"
#include "berth/image/layer_writer.h"
#include "berth/image/tree_copy.h"

namespace berth {
namespace {

std::string volumes_dir(const std::string& root) {
  return root + "/volumes";
}

std::string volume_dir(const std::string& root, const std::string& name) {
  return volumes_dir(root) + "/" + name;
}

base::Result<Volume> load_volume(const std::string& root, const std::string& name) {
  if (!valid_volume_name(name)) return base::fail_msg(fmt::format("no such volume: {}", name));
  auto text = base::read_text_capped(volume_dir(root, name) + "/volume.json", size_t{1} << 20);
  if (!text) return base::fail_msg(fmt::format("no such volume: {}", name));
  auto j = nlohmann::json::parse(*text, nullptr, false);
  Volume v;
  try {
    v.name = j.at("Name");
    v.created = j.at("CreatedAt");
    v.labels = j.at("Labels").get<std::map<std::string, std::string>>();
    v.anonymous = j.at("Anonymous");
  } catch (const nlohmann::json::exception&) {
    return base::fail_msg(fmt::format("volume {}: its record is damaged", name));
  }
  if (v.name != name) return base::fail_msg(fmt::format("volume {}: its record is damaged", name));
  v.mountpoint = volume_dir(root, name) + "/_data";
  return v;
}

// Deletes the volume's files: first out of sight (a rename), so a kill
// midway leaves trash for the next prune, never half a volume.
base::Status delete_volume(const std::string& root, const std::string& name) {
  std::string trash = volumes_dir(root) + "/.removing-" + name;
  TRY_STATUS(base::sys::renameat(AT_FDCWD, volume_dir(root, name), AT_FDCWD, trash));
  record_event(root, "volume", "destroy", name, {{"driver", "local"}});
  return base::remove_tree(trash);
}

bool mounts_volume(const nlohmann::json& mounts, const std::string& name) {
  return std::any_of(mounts.begin(), mounts.end(), [&](const nlohmann::json& m) {
    return m.value("Type", "") == "volume" && m.value("Name", "") == name;
  });
}

}  // namespace

base::Result<base::FileLock> lock_volumes(const std::string& root) {
  TRY_STATUS(base::make_dirs(root));
  return base::FileLock::acquire(root + "/volumes.lock");
}

base::Result<Volume> ensure_volume(const std::string& root, const std::string& name,
                                   const std::map<std::string, std::string>& labels,
                                   bool anonymous) {
  if (!name.empty()) {
    if (!valid_volume_name(name))
      return base::fail_msg(
          fmt::format("'{}' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", name));
    if (auto found = load_volume(root, name)) return found;
    if (base::path_exists(volume_dir(root, name)))  // a directory without its record
      return base::fail_msg(fmt::format("volume {}: its record is damaged", name));
  }
  Volume v;
  v.name = name.empty() ? TRY(base::sys::random_hex(32)) : name;
  v.created = base::now_rfc3339();
  v.labels = labels;
  v.anonymous = anonymous;
  std::string dir = volume_dir(root, v.name);
  // Made whole under a temporary name, then renamed: a kill midway leaves no
  // volume without its record.
  // Its files may hold what an image brought (setuid programs, device
  // nodes): no one but root reaches anything below volumes/.
  TRY_STATUS(base::make_dirs(volumes_dir(root)));
  TRY_STATUS(base::sys::fchmodat(AT_FDCWD, volumes_dir(root), 0700));
  auto staging = TRY(base::OwnedDir::make(volumes_dir(root), ".making-"));
  TRY_STATUS(base::sys::fchmodat(AT_FDCWD, staging.path(), 0701));
  TRY_STATUS(base::make_dirs(staging.path() + "/_data"));
  TRY_STATUS(base::sys::fchmodat(AT_FDCWD, staging.path() + "/_data", 0755));
  nlohmann::json record = {
      {"Name", v.name}, {"CreatedAt", v.created}, {"Labels", v.labels}, {"Anonymous", v.anonymous}};
  TRY_STATUS(
      base::replace_file(staging.path() + "/volume.json",
                         record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)));
  TRY_STATUS(base::sys::renameat(AT_FDCWD, staging.path(), AT_FDCWD, dir));
  v.mountpoint = dir + "/_data";
  record_event(root, "volume", "create", v.name, {{"driver", "local"}});
  return v;
}

base::Result<Volume> find_volume(const std::string& root, const std::string& name) {
  return load_volume(root, name);
}

std::vector<Volume> list_volumes(const std::string& root) {
  std::vector<Volume> out;
  auto dir = base::sys::open(volumes_dir(root), O_RDONLY | O_DIRECTORY);
  if (!dir) return out;
  auto names = base::list_dir(dir->get(), volumes_dir(root));
  if (!names) return out;
  for (const auto& name : *names)
    if (auto v = load_volume(root, name)) out.push_back(std::move(*v));
  return out;
}

std::set<std::string> volumes_in_use(const std::vector<ContainerRecord>& records) {
  std::set<std::string> names;
  for (const auto& r : records)
    for (const auto& m : r.mounts)
      if (m.value("Type", "") == "volume") names.insert(m.value("Name", ""));
  return names;
}

std::vector<std::string> volume_users(const std::string& root, const std::string& name) {
  std::vector<std::string> ids;
  for (const auto& rec : list_containers(root))
    if (mounts_volume(rec.mounts, name)) ids.push_back(rec.id);
  return ids;
}

base::Status remove_volume(const std::string& root, const std::string& name) {
  auto lock = TRY(lock_volumes(root));
  TRY(load_volume(root, name));
  auto users = volume_users(root, name);
  if (!users.empty()) {
    std::string ids;
    for (const auto& id : users) ids += (ids.empty() ? "" : ", ") + id;
    return base::fail_msg(fmt::format("remove {}: volume is in use - [{}]", name, ids));
  }
  return delete_volume(root, name);
}

base::Result<std::vector<std::string>> prune_volumes(const std::string& root, bool all,
                                                     const std::vector<std::string>& labels) {
  auto lock = TRY(lock_volumes(root));
  std::vector<std::string> removed;
  auto in_use = volumes_in_use(list_containers(root));
  for (const auto& v : list_volumes(root)) {
    bool used = (!all && !v.anonymous) || in_use.count(v.name) > 0;
    for (const auto& filter : labels) {
      std::string want = filter.substr(filter.find('=') + 1);
      auto eq = want.find('=');
      auto it = v.labels.find(want.substr(0, eq));
      used = used || it == v.labels.end() ||
             (eq != std::string::npos && it->second != want.substr(eq + 1));
    }
    if (used) continue;
    TRY_STATUS(delete_volume(root, v.name));
    removed.push_back(v.name);
  }
  // What a killed rm or create left.
  if (auto dir = base::sys::open(volumes_dir(root), O_RDONLY | O_DIRECTORY))
    if (auto names = base::list_dir(dir->get(), volumes_dir(root)))
      for (const auto& name : *names)
        if (name.rfind(".removing-", 0) == 0 || name.rfind(".making-", 0) == 0)
          (void)base::remove_tree(volumes_dir(root) + "/" + name);
  return removed;
}

void remove_anonymous_volumes(const std::string& root, const nlohmann::json& mounts) {
  bool any = std::any_of(mounts.begin(), mounts.end(),
                         [](const nlohmann::json& m) { return m.value("Type", "") == "volume"; });
  if (!any) return;
  auto lock = lock_volumes(root);
  if (!lock) return;
  for (const auto& m : mounts) {
    if (m.value("Type", "") != "volume") continue;
    auto v = load_volume(root, m.value("Name", ""));
    if (v && v->anonymous && volume_users(root, v->name).empty())
      (void)delete_volume(root, v->name);
  }
}

nlohmann::json volume_json(const Volume& v) {
  return {{"CreatedAt", v.created.substr(0, std::min<size_t>(v.created.size(), 19)) + "Z"},
          {"Driver", "local"},
          // docker's: empty maps for a volume made by `volume create`, null for an anonymous one.
          {"Labels", v.anonymous && v.labels.empty() ? nlohmann::json() : nlohmann::json(v.labels)},
          {"Mountpoint", v.mountpoint},
          {"Name", v.name},
          {"Options", v.anonymous ? nlohmann::json() : nlohmann::json::object()},
          {"Scope", "local"}};
}

base::Status fill_volume(const std::string& mountpoint, const std::string& rootfs,
                         const std::string& target) {
  base::UniqueFd data = TRY(base::sys::open(mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (!TRY(base::list_dir(data.get(), mountpoint)).empty()) return {};
  base::UniqueFd root = TRY(base::sys::open(rootfs, O_PATH | O_DIRECTORY));
  auto src = base::sys::openat2(root.get(), target, O_RDONLY | O_DIRECTORY, 0,
                                RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, target);
  if (!src) return {};  // nothing there in the image (or not a directory): nothing to copy
  struct stat st = TRY(base::sys::fstat(src->get(), target));
  TRY_STATUS(base::sys::fchown(data.get(), st.st_uid, st.st_gid, mountpoint));
  TRY_STATUS(base::sys::fchmod(data.get(), st.st_mode & 07777, mountpoint));
  auto writer = TRY(LayerWriter::open(mountpoint));
  TRY_STATUS(copy_tree(src->get(), writer, "", target));
  return writer.finish();
}

}  // namespace berth
