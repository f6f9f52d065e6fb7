#include "berth/container/container_handle.h"

#include <cerrno>

#include <utility>

#include <fmt/format.h>

#include "base/dirs.h"

namespace berth {
namespace {

base::Result<ContainerHandle> gone(const std::string& id) {
  return base::fail_msg(fmt::format("no such container: {}", id.substr(0, 12)));
}

}  // namespace

base::Result<ContainerHandle> ContainerHandle::lock_without_record(const std::string& root,
                                                                   const std::string& id) {
  std::string dir = container_dir(root, id);
  auto lock = base::FileLock::acquire(dir + "/lock");
  if (!lock && lock.error().code() == ENOENT) return gone(id);
  if (!lock) return base::fail(std::move(lock).error());
  // Removed while we waited: `rm` renames the directory away, then deletes
  // it, under the lock we were waiting for.
  if (!lock->still_at(dir + "/lock")) return gone(id);
  ContainerHandle h(root, dir, std::move(*lock));
  h.rec_.id = id;
  return h;
}

base::Result<ContainerHandle> ContainerHandle::lock(const std::string& root,
                                                    const std::string& id) {
  ContainerHandle h = TRY(lock_without_record(root, id));
  // Made by a `create` that has not written its record yet, or killed.
  if (!base::path_exists(h.dir_ + "/container.json")) return gone(id);
  h.rec_ = TRY(load_container(root, id));
  return h;
}

base::Status ContainerHandle::save() const {
  return save_container(root_, rec_);
}

std::string monitor_lock_path(const std::string& dir) {
  return dir + "/monitor.lock";
}

bool monitor_alive(const std::string& dir) {
  return base::LifeLock::held(monitor_lock_path(dir));
}

}  // namespace berth
