// Named volumes, kept as docker's local driver keeps them, under <root>/volumes/:
//   <name>/_data        the files, bind-mounted into the containers that use it
//   <name>/volume.json  {"Name", "CreatedAt", "Labels", "Anonymous"}
//   .removing-<name>    a volume being deleted (finished by the next prune)
// and <root>/volumes.lock, held to make a volume, to delete one, and by a
// container's create from choosing its volumes until its record names them
// (the record's Mounts: container_record.h), so no volume in use is deleted.
// A name is docker's ([a-zA-Z0-9][a-zA-Z0-9_.-]+, mount_options.h); an
// anonymous volume (-v /path, an image's VOLUME) gets 64 random hex digits
// and goes with its container when that is removed with --rm or rm -v.
// Thread-safety: safe across processes (the lock above).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file_lock.h"
#include "berth/container/container_record.h"

namespace berth {

struct Volume {
  std::string name;
  std::string created;  // RFC 3339
  std::map<std::string, std::string> labels;
  bool anonymous = false;
  std::string mountpoint;  // <root>/volumes/<name>/_data
};

base::Result<base::FileLock> lock_volumes(const std::string& root);

// The volume `name`, made when missing (with `labels`); "" makes an
// anonymous one. Under lock_volumes().
base::Result<Volume> ensure_volume(const std::string& root, const std::string& name,
                                   const std::map<std::string, std::string>& labels,
                                   bool anonymous);
base::Result<Volume> find_volume(const std::string& root, const std::string& name);
std::vector<Volume> list_volumes(const std::string& root);
// The names of the volumes that `records` mount.
std::set<std::string> volumes_in_use(const std::vector<ContainerRecord>& records);
// The ids of the containers whose records mount the volume.
std::vector<std::string> volume_users(const std::string& root, const std::string& name);

// `volume rm`: refused while a container uses it ("volume is in use - [id]").
base::Status remove_volume(const std::string& root, const std::string& name);
// `volume prune`: the anonymous volumes no container uses, or with `all`
// every unused one, as docker 23 (20.10 pruned named ones too: a user's
// database lost to a routine prune). With `labels` ("label=KEY" or
// "label=KEY=VALUE"), only those that have them. Returns their names.
base::Result<std::vector<std::string>> prune_volumes(const std::string& root, bool all = false,
                                                     const std::vector<std::string>& labels = {});
// The anonymous volumes in `mounts` (a removed container's record) that no
// other container uses, deleted (--rm, rm -v).
void remove_anonymous_volumes(const std::string& root, const nlohmann::json& mounts);

// docker's `volume inspect` object.
nlohmann::json volume_json(const Volume& v);

// Fills an empty volume from the image, as docker does on its first use:
// what `target` holds in the container's root `rootfs` (resolved as the
// container sees it) is copied into the volume with its owners and modes,
// and the volume's top takes the directory's owner and mode. Nothing when
// the volume holds anything or the image has no directory there.
base::Status fill_volume(const std::string& mountpoint, const std::string& rootfs,
                         const std::string& target);

}  // namespace berth
