#include "berth/container/container_handle.h"

#include <utility>

namespace berth {

base::Result<ContainerHandle> ContainerHandle::lock_without_record(const std::string& root,
                                                                   const std::string& id) {
  std::string dir = container_dir(root, id);
  auto lock = TRY(base::FileLock::acquire(dir + "/lock"));
  ContainerHandle h(root, dir, std::move(lock));
  h.rec_.id = id;
  return h;
}

base::Result<ContainerHandle> ContainerHandle::lock(const std::string& root,
                                                    const std::string& id) {
  ContainerHandle h = TRY(lock_without_record(root, id));
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
