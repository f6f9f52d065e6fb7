#include "berth/network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
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
    auto file = base::sys::open(path, O_WRONLY | O_CREAT, 0444);
    if (!file) return base::fail(base::Error::sys(file.error().code(), "create", path));
  }
  // unshare() moves only the calling thread; this one ends after the mount.
  base::Status status;
  std::thread([&] {
    if (auto s = base::sys::unshare(CLONE_NEWNET); !s) {
      status = base::fail(base::Error::sys(s.error().code(), "unshare(CLONE_NEWNET)", path));
      return;
    }
    if (auto s = base::sys::mount("/proc/thread-self/ns/net", path, nullptr, MS_BIND, ""); !s) {
      status = base::fail(base::Error::sys(s.error().code(), "bind-mount network namespace", path));
      return;
    }
    auto nl = Netlink::open();
    status = nl ? nl->set_up("lo") : base::fail(std::move(nl).error());
  }).join();
  if (!status) (void)remove_netns_file(path);
  return status;
}

base::Status remove_netns_file(const std::string& path) {
  if (auto s = base::sys::umount2(path, MNT_DETACH);
      !s && s.error().code() != EINVAL && s.error().code() != ENOENT)
    return base::fail(std::move(s).error());
  if (auto s = base::sys::unlinkat(AT_FDCWD, path, 0); !s && s.error().code() != ENOENT)
    return base::fail(base::Error::sys(s.error().code(), "unlink", path));
  return {};
}

base::Result<base::UniqueFd> open_netns(const std::string& path) {
  auto fd = base::sys::open(path, O_RDONLY);
  if (!fd) return base::fail(base::Error::sys(fd.error().code(), "open network namespace", path));
  return fd;
}

}  // namespace berth
