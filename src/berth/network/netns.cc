#include "berth/network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "base/sys.h"
#include "berth/network/netlink.h"

namespace berth {

base::Status create_netns_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return base::fail(base::Error::sys(ec.value(), "mkdir", path));
  {
    base::UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0444));
    if (!file) return base::fail(base::Error::sys(errno, "create", path));
  }
  // unshare() moves only the calling thread; this one ends after the mount.
  base::Status status;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      status = base::fail(base::Error::sys(errno, "unshare(CLONE_NEWNET)", path));
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      status = base::fail(base::Error::sys(errno, "bind-mount network namespace", path));
      return;
    }
    auto nl = Netlink::open();
    status = nl ? nl->set_up("lo") : base::fail(std::move(nl).error());
  }).join();
  if (!status) (void)remove_netns_file(path);
  return status;
}

base::Status remove_netns_file(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return base::fail(base::Error::sys(errno, "umount", path));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return base::fail(base::Error::sys(errno, "unlink", path));
  return {};
}

base::Result<base::UniqueFd> open_netns(const std::string& path) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return base::fail(base::Error::sys(errno, "open network namespace", path));
  return fd;
}

}  // namespace berth
