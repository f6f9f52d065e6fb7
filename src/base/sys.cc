#include "base/sys.h"

#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <vector>

namespace base::sys {
namespace {

// Calls f until it does not fail with EINTR.
template <typename F>
auto retry(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

std::string_view name_or(std::string_view what, const std::string& path) {
  return what.empty() ? std::string_view(path) : what;
}

Error err(std::string_view op, std::string_view subject) {
  return Error::sys(errno, op, subject);
}

}  // namespace

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
  int fd = retry([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return fail(err("open", path));
  return UniqueFd(fd);
}

Result<UniqueFd> openat(int dirfd, const std::string& path, int flags, mode_t mode,
                        std::string_view what) {
  int fd = retry([&] { return ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return fail(err("open", name_or(what, path)));
  return UniqueFd(fd);
}

Result<UniqueFd> openat2(int dirfd, const std::string& path, int flags, mode_t mode,
                         uint64_t resolve, std::string_view what) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  int fd = retry([&] {
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
  });
  if (fd < 0) return fail(err("open", name_or(what, path)));
  return UniqueFd(fd);
}

Result<struct stat> fstat(int fd, std::string_view what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(err("stat", what));
  return st;
}

Result<struct stat> fstatat(int dirfd, const std::string& path, int flags, std::string_view what) {
  struct stat st {};
  if (::fstatat(dirfd, path.c_str(), &st, flags) != 0)
    return fail(err("stat", name_or(what, path)));
  return st;
}

Status mkdirat(int dirfd, const std::string& path, mode_t mode, std::string_view what) {
  if (::mkdirat(dirfd, path.c_str(), mode) != 0) return fail(err("mkdir", name_or(what, path)));
  return {};
}

Status symlinkat(const std::string& target, int dirfd, const std::string& path,
                 std::string_view what) {
  if (::symlinkat(target.c_str(), dirfd, path.c_str()) != 0)
    return fail(err("symlink", name_or(what, path)));
  return {};
}

Result<std::string> readlinkat(int dirfd, const std::string& path, std::string_view what) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, path.c_str(), buf.data(), buf.size());
    if (n < 0) return fail(err("readlink", name_or(what, path)));
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= 65536) return fail(Error::msg("readlink: link target too long"));
    buf.resize(buf.size() * 2);
  }
}

Status renameat(int olddir, const std::string& oldpath, int newdir, const std::string& newpath,
                std::string_view what) {
  if (::renameat(olddir, oldpath.c_str(), newdir, newpath.c_str()) != 0)
    return fail(err("rename", name_or(what, newpath)));
  return {};
}

Status unlinkat(int dirfd, const std::string& path, int flags, std::string_view what) {
  if (::unlinkat(dirfd, path.c_str(), flags) != 0) return fail(err("remove", name_or(what, path)));
  return {};
}

Status linkat(int olddir, const std::string& oldpath, int newdir, const std::string& newpath,
              int flags, std::string_view what) {
  if (::linkat(olddir, oldpath.c_str(), newdir, newpath.c_str(), flags) != 0)
    return fail(err("link", name_or(what, newpath)));
  return {};
}

Status fchmod(int fd, mode_t mode, std::string_view what) {
  if (::fchmod(fd, mode) != 0) return fail(err("chmod", what));
  return {};
}

Status fchmodat(int dirfd, const std::string& path, mode_t mode, std::string_view what) {
  if (::fchmodat(dirfd, path.c_str(), mode, 0) != 0) return fail(err("chmod", name_or(what, path)));
  return {};
}

Status futimens(int fd, const struct timespec times[2], std::string_view what) {
  if (::futimens(fd, times) != 0) return fail(err("set times on", what));
  return {};
}

Status utimensat(int dirfd, const std::string& path, const struct timespec times[2], int flags,
                 std::string_view what) {
  if (::utimensat(dirfd, path.c_str(), times, flags) != 0)
    return fail(err("set times on", name_or(what, path)));
  return {};
}

Status fchown(int fd, uid_t uid, gid_t gid, std::string_view what) {
  if (::fchown(fd, uid, gid) != 0) return fail(err("chown", what));
  return {};
}

Status ftruncate(int fd, off_t length, std::string_view what) {
  if (retry([&] { return ::ftruncate(fd, length); }) != 0) return fail(err("truncate", what));
  return {};
}

Status fallocate(int fd, int mode, off_t offset, off_t length, std::string_view what) {
  if (length <= 0) return {};
  if (retry([&] { return ::fallocate(fd, mode, offset, length); }) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) return {};
    return fail(err("allocate space for", what));
  }
  return {};
}

Status fsync(int fd, std::string_view what) {
  if (retry([&] { return ::fsync(fd); }) != 0) return fail(err("fsync", what));
  return {};
}

Result<off_t> lseek(int fd, off_t offset, int whence, std::string_view what) {
  off_t r = ::lseek(fd, offset, whence);
  if (r < 0) {
    if (errno == ENXIO) return off_t{-1};
    return fail(err("seek in", what));
  }
  return r;
}

Status posix_fadvise(int fd, off_t offset, off_t length, int advice) {
  int rc = ::posix_fadvise(fd, offset, length, advice);  // returns the error, not errno
  if (rc != 0) return fail(Error::sys(rc, "fadvise"));
  return {};
}

Status mknodat(int dirfd, const std::string& path, mode_t mode, dev_t dev, std::string_view what) {
  if (::mknodat(dirfd, path.c_str(), mode, dev) != 0)
    return fail(err("mknod", name_or(what, path)));
  return {};
}

Status mkfifo(const std::string& path, mode_t mode) {
  if (::mkfifo(path.c_str(), mode) != 0) return fail(err("mkfifo", path));
  return {};
}

Status fchownat(int dirfd, const std::string& path, uid_t uid, gid_t gid, int flags,
                std::string_view what) {
  if (::fchownat(dirfd, path.c_str(), uid, gid, flags) != 0)
    return fail(err("chown", name_or(what, path)));
  return {};
}

Status access(const std::string& path, int mode) {
  if (::access(path.c_str(), mode) != 0) return fail(err("access", path));
  return {};
}

Status setxattr(const std::string& path, const std::string& name, const void* value, size_t size,
                int flags, std::string_view what) {
  if (::setxattr(path.c_str(), name.c_str(), value, size, flags) != 0)
    return fail(err("setxattr", name_or(what, path)));
  return {};
}

namespace {
// An attribute's value by `get` (a get*xattr call), its buffer grown until
// the value fits (at most XATTR_SIZE_MAX); nullopt when there is none.
template <typename Get>
Result<std::optional<std::string>> attribute_value(Get get, const std::string& name,
                                                   std::string_view shown) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = get(buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return std::optional<std::string>(std::move(buf));
    }
    if (errno == ENODATA || errno == ENOTSUP) return std::optional<std::string>();
    if (errno != ERANGE || buf.size() >= (1u << 16)) return fail(err("getxattr " + name, shown));
    buf.resize(buf.size() * 4);
  }
}
}  // namespace

Result<std::optional<std::string>> lgetxattr(const std::string& path, const std::string& name,
                                             std::string_view what) {
  return attribute_value(
      [&](char* b, size_t n) { return ::lgetxattr(path.c_str(), name.c_str(), b, n); }, name,
      name_or(what, path));
}

Status lremovexattr(const std::string& path, const std::string& name, std::string_view what) {
  if (::lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA && errno != ENOTSUP)
    return fail(err("removexattr " + name, name_or(what, path)));
  return {};
}

namespace {
// A list of NUL-terminated names, as the list*xattr calls give it.
std::vector<std::string> split_names(const std::string& buf) {
  std::vector<std::string> names;
  for (size_t at = 0; at < buf.size();) {
    size_t end = buf.find('\0', at);
    if (end == std::string::npos) end = buf.size();
    if (end > at) names.emplace_back(buf, at, end - at);
    at = end + 1;
  }
  return names;
}

template <typename List>
Result<std::vector<std::string>> list_names(List list, const std::string& shown) {
  std::string buf(1024, '\0');
  for (;;) {
    ssize_t n = list(buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return split_names(buf);
    }
    if (errno == ENOTSUP) return std::vector<std::string>();
    if (errno != ERANGE || buf.size() >= (1u << 20)) return fail(err("listxattr", shown));
    buf.resize(buf.size() * 4);
  }
}
}  // namespace

Result<std::vector<std::string>> llistxattr(const std::string& path, std::string_view what) {
  return list_names([&](char* b, size_t n) { return ::llistxattr(path.c_str(), b, n); },
                    std::string(name_or(what, path)));
}

Result<std::vector<std::string>> flistxattr(int fd, std::string_view what) {
  return list_names([&](char* b, size_t n) { return ::flistxattr(fd, b, n); }, std::string(what));
}

Result<std::optional<std::string>> fgetxattr(int fd, const std::string& name,
                                             std::string_view what) {
  return attribute_value([&](char* b, size_t n) { return ::fgetxattr(fd, name.c_str(), b, n); },
                         name, what);
}

Status fremovexattr(int fd, const std::string& name, std::string_view what) {
  if (::fremovexattr(fd, name.c_str()) != 0 && errno != ENODATA)
    return fail(err("removexattr " + name, what));
  return {};
}

Status fsetxattr(int fd, const std::string& name, const void* value, size_t size, int flags,
                 std::string_view what) {
  if (::fsetxattr(fd, name.c_str(), value, size, flags) != 0) return fail(err("setxattr", what));
  return {};
}

Result<struct statfs> statfs(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return fail(err("statfs", path));
  return fs;
}

Result<std::string> realpath(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return fail(err("realpath", path));
  return std::string(buf);
}

Result<UniqueFd> memfd_create(const std::string& name, unsigned flags, std::string_view what) {
  int fd = ::memfd_create(name.c_str(), flags | MFD_CLOEXEC);
  if (fd < 0) return fail(err("memfd_create", name_or(what, name)));
  return UniqueFd(fd);
}

Result<FILE*> fopen(const std::string& path, const char* mode, std::string_view what) {
  std::string m = std::string(mode) + "e";
  FILE* f = ::fopen(path.c_str(), m.c_str());
  if (!f) return fail(err("open", name_or(what, path)));
  return f;
}

Result<DIR*> fdopendir(int fd, std::string_view what) {
  DIR* d = ::fdopendir(fd);
  if (!d) return fail(err("open directory", what));
  return d;
}

Result<struct dirent*> readdir(DIR* dir, std::string_view what) {
  errno = 0;  // readdir returns null both at the end and on error
  struct dirent* e = ::readdir(dir);
  if (!e && errno != 0) return fail(err("read directory", what));
  return e;
}

Status mount(const std::string& source, const std::string& target, const char* type,
             unsigned long flags, const std::string& data, std::string_view what) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return fail(err("mount", name_or(what, target)));
  return {};
}

Status umount2(const std::string& target, int flags, std::string_view what) {
  if (::umount2(target.c_str(), flags) != 0) return fail(err("umount", name_or(what, target)));
  return {};
}

Status pivot_root(const std::string& new_root, const std::string& put_old, std::string_view what) {
  if (::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) != 0)
    return fail(err("pivot_root", name_or(what, new_root)));
  return {};
}

Status chroot(const std::string& path, std::string_view what) {
  if (::chroot(path.c_str()) != 0) return fail(err("chroot", name_or(what, path)));
  return {};
}

Status chdir(const std::string& path, std::string_view what) {
  if (::chdir(path.c_str()) != 0) return fail(err("chdir", name_or(what, path)));
  return {};
}

Status fchdir(int fd, std::string_view what) {
  if (::fchdir(fd) != 0) return fail(err("chdir", what));
  return {};
}

Result<size_t> read(int fd, void* buf, size_t len, std::string_view what) {
  ssize_t n = retry([&] { return ::read(fd, buf, len); });
  if (n < 0) return fail(err("read", what));
  return static_cast<size_t>(n);
}

Result<size_t> pread(int fd, void* buf, size_t len, off_t offset, std::string_view what) {
  ssize_t n = retry([&] { return ::pread(fd, buf, len, offset); });
  if (n < 0) return fail(err("read", what));
  return static_cast<size_t>(n);
}

Result<size_t> write(int fd, const void* buf, size_t len, std::string_view what) {
  ssize_t n = retry([&] { return ::write(fd, buf, len); });
  if (n < 0) return fail(err("write", what));
  return static_cast<size_t>(n);
}

Result<size_t> pwrite(int fd, const void* buf, size_t len, off_t offset, std::string_view what) {
  ssize_t n = retry([&] { return ::pwrite(fd, buf, len, offset); });
  if (n < 0) return fail(err("write", what));
  return static_cast<size_t>(n);
}

Result<size_t> sendfile(int out_fd, int in_fd, off_t* offset, size_t len, std::string_view what) {
  ssize_t n = retry([&] { return ::sendfile(out_fd, in_fd, offset, len); });
  if (n < 0) return fail(err("send", what));
  return static_cast<size_t>(n);
}

Result<size_t> copy_file_range(int in_fd, off_t* in_off, int out_fd, off_t* out_off, size_t len,
                               std::string_view what) {
  ssize_t n = retry([&] { return ::copy_file_range(in_fd, in_off, out_fd, out_off, len, 0); });
  if (n < 0) return fail(err("copy_file_range", what));
  return static_cast<size_t>(n);
}

Status pwrite_all(int fd, const void* buf, size_t len, off_t offset, std::string_view what) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    size_t n = TRY(pwrite(fd, p, len, offset, what));
    if (n == 0) return fail(Error::sys(EIO, "write", what));
    p += n;
    len -= n;
    offset += static_cast<off_t>(n);
  }
  return {};
}

Status write_all(int fd, const void* buf, size_t len, std::string_view what) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    size_t n = TRY(write(fd, p, len, what));
    if (n == 0) return fail(Error::sys(EIO, "write", what));
    p += n;
    len -= n;
  }
  return {};
}

Status close(UniqueFd fd, std::string_view what) {
  if (::close(fd.release()) != 0) return fail(err("close", what));
  return {};
}

Result<bool> flock_exclusive(int fd, std::string_view what) {
  if (retry([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) == 0) return true;
  if (errno == EWOULDBLOCK) return false;
  return fail(err("lock", what));
}

Status flock_wait(int fd, std::string_view what) {
  if (retry([&] { return ::flock(fd, LOCK_EX); }) != 0) return fail(err("lock", what));
  return {};
}

Result<bool> record_lock(int fd, short type, bool wait, std::string_view what) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  if (retry([&] { return ::fcntl(fd, wait ? F_SETLKW : F_SETLK, &l); }) == 0) return true;
  if (!wait && (errno == EAGAIN || errno == EACCES)) return false;
  return fail(err("lock", what));
}

Result<std::optional<RecordLockHolder>> record_lock_holder(int fd, std::string_view what) {
  struct flock l {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  if (retry([&] { return ::fcntl(fd, F_GETLK, &l); }) != 0) return fail(err("lock", what));
  if (l.l_type == F_UNLCK) return std::optional<RecordLockHolder>();
  return std::optional<RecordLockHolder>(RecordLockHolder{l.l_type, l.l_pid});
}

Status set_cloexec(int fd, bool on) {
  if (::fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) return fail(err("fcntl F_SETFD", ""));
  return {};
}

Result<int> dup(int fd, int lowest) {
  int r = ::fcntl(fd, F_DUPFD_CLOEXEC, lowest);
  if (r < 0) return fail(err("dup", ""));
  return r;
}

Result<size_t> recv(int fd, void* buf, size_t len, int flags, std::string_view what) {
  ssize_t n = retry([&] { return ::recv(fd, buf, len, flags); });
  if (n < 0) return fail(err("receive", what));
  return static_cast<size_t>(n);
}

Result<size_t> recvmsg(int fd, struct msghdr* msg, int flags, std::string_view what) {
  ssize_t n = retry([&] { return ::recvmsg(fd, msg, flags); });
  if (n < 0) return fail(err("receive", what));
  return static_cast<size_t>(n);
}

Result<UniqueFd> socket(int domain, int type, int protocol, std::string_view what) {
  int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return fail(err("socket", what));
  return UniqueFd(fd);
}

Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, std::string_view what) {
  int fds[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC, 0, fds) != 0) return fail(err("socketpair", what));
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status bind(int fd, const struct sockaddr* addr, socklen_t len, std::string_view what) {
  if (::bind(fd, addr, len) != 0) return fail(err("bind", what));
  return {};
}

Status listen(int fd, int backlog, std::string_view what) {
  if (::listen(fd, backlog) != 0) return fail(err("listen on", what));
  return {};
}

Result<UniqueFd> accept(int fd, struct sockaddr* addr, socklen_t* len) {
  int r = retry([&] { return ::accept4(fd, addr, len, SOCK_CLOEXEC); });
  if (r < 0) return fail(err("accept", ""));
  return UniqueFd(r);
}

Status connect(int fd, const struct sockaddr* addr, socklen_t len, std::string_view what) {
  if (::connect(fd, addr, len) != 0) return fail(err("connect to", what));
  return {};
}

Status getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  if (::getsockname(fd, addr, len) != 0) return fail(err("getsockname", ""));
  return {};
}

Status setsockopt(int fd, int level, int name, const void* value, socklen_t len,
                  std::string_view what) {
  if (::setsockopt(fd, level, name, value, len) != 0) return fail(err("setsockopt", what));
  return {};
}

Status getsockopt(int fd, int level, int name, void* value, socklen_t* len, std::string_view what) {
  if (::getsockopt(fd, level, name, value, len) != 0) return fail(err("getsockopt", what));
  return {};
}

Result<size_t> send(int fd, const void* buf, size_t len, int flags, std::string_view what) {
  ssize_t n = retry([&] { return ::send(fd, buf, len, flags); });
  if (n < 0) return fail(err("send", what));
  return static_cast<size_t>(n);
}

Result<size_t> sendmsg(int fd, const struct msghdr* msg, int flags, std::string_view what) {
  ssize_t n = retry([&] { return ::sendmsg(fd, msg, flags); });
  if (n < 0) return fail(err("send", what));
  return static_cast<size_t>(n);
}

Status set_nonblocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return fail(err("fcntl", ""));
  int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) return fail(err("fcntl", ""));
  return {};
}

Result<short> poll_one(int fd, short events, int timeout_ms) {
  struct pollfd p {};
  p.fd = fd;
  p.events = events;
  int n = retry([&] { return ::poll(&p, 1, timeout_ms); });
  if (n < 0) return fail(err("poll", ""));
  return n == 0 ? static_cast<short>(0) : p.revents;
}

Status shutdown(int fd, int how) {
  if (::shutdown(fd, how) != 0) return fail(err("shutdown", ""));
  return {};
}

Result<int> poll(std::span<struct pollfd> fds, int timeout_ms) {
  int n = retry([&] { return ::poll(fds.data(), fds.size(), timeout_ms); });
  if (n < 0) return fail(err("poll", ""));
  return n;
}

Result<UniqueFd> timerfd_create(int clock, std::string_view what) {
  int fd = ::timerfd_create(clock, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return fail(err("timerfd_create", what));
  return UniqueFd(fd);
}

Status timerfd_settime_abs(int fd, const struct timespec& when, std::string_view what) {
  struct itimerspec spec {};
  spec.it_value = when;
  if (::timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
    return fail(err("timerfd_settime", what));
  return {};
}

namespace {
sigset_t signal_set(std::span<const int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}
}  // namespace

Status block_signals(std::span<const int> signals) {
  sigset_t set = signal_set(signals);
  int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr);  // returns the error, not errno
  if (rc != 0) return fail(Error::sys(rc, "sigprocmask", ""));
  return {};
}

Status unblock_signals(std::span<const int> signals) {
  sigset_t set = signal_set(signals);
  int rc = ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  if (rc != 0) return fail(Error::sys(rc, "sigprocmask", ""));
  return {};
}

Result<UniqueFd> signalfd(std::span<const int> signals, std::string_view what) {
  sigset_t set = signal_set(signals);
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return fail(err("signalfd", what));
  return UniqueFd(fd);
}

Status ioctl(int fd, unsigned long request, void* arg, std::string_view request_name,
             std::string_view what) {
  if (retry([&] { return ::ioctl(fd, request, arg); }) != 0) return fail(err(request_name, what));
  return {};
}

Status ioctl_value(int fd, unsigned long request, unsigned long value,
                   std::string_view request_name, std::string_view what) {
  if (retry([&] { return ::ioctl(fd, request, value); }) != 0) return fail(err(request_name, what));
  return {};
}

Status unlockpt(int fd, std::string_view what) {
  if (::unlockpt(fd) != 0) return fail(err("unlockpt", what));
  return {};
}

Result<std::string> ptsname(int fd, std::string_view what) {
  char name[64];
  int rc = ::ptsname_r(fd, name, sizeof name);  // returns the error, not only errno
  if (rc != 0) return fail(Error::sys(rc, "ptsname", what));
  return std::string(name);
}

Status mount_setattr(const std::string& path, bool recursive, uint64_t set, uint64_t clear,
                     std::string_view what) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  unsigned int flags = recursive ? AT_RECURSIVE : 0;
  if (::mount_setattr(AT_FDCWD, path.c_str(), flags, &attr, sizeof attr) != 0)
    return fail(err("mount_setattr", name_or(what, path)));
  return {};
}

Result<Pipe> pipe(std::string_view what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(err("pipe", what));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<pid_t> fork(std::string_view what) {
  pid_t pid = ::fork();
  if (pid < 0) return fail(err("fork", what));
  return pid;
}

Result<pid_t> clone(unsigned long flags, std::string_view what) {
  auto pid =
      static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) return fail(err("clone", what));
  return pid;
}

Result<pid_t> clone_into_cgroup(unsigned long flags, int cgroup_fd, std::string_view what) {
  // struct clone_args of <linux/sched.h> (which clashes with glibc's
  // <sched.h>), as far as CLONE_INTO_CGROUP needs it: the kernel takes
  // any size from its first version on and zeroes what is not given.
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
  } args{};
  constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
  args.flags = flags | kCloneIntoCgroup;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  auto pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
  if (pid < 0) return fail(err("clone3", what));
  return pid;
}

Error execve(const std::string& path, char* const argv[], char* const envp[]) {
  ::execve(path.c_str(), argv, envp);
  return err("exec", path);
}

Result<pid_t> spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd) {
  if (argv.empty()) return fail(Error::sys(EINVAL, "spawn", "(no program)"));
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copy, so the child keeps 0 and 1.
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  // A caller relaying pipes ignores SIGPIPE; the child starts with the default.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Error::sys(rc, "run", argv[0]));
  return pid;
}

Result<std::optional<int>> waitpid(pid_t pid, bool nohang) {
  int status = 0;
  pid_t r = retry([&] { return ::waitpid(pid, &status, nohang ? WNOHANG : 0); });
  if (r < 0) return fail(err("waitpid", ""));
  if (r == 0) return std::optional<int>();
  return std::optional<int>(status);
}

Result<std::optional<std::pair<pid_t, int>>> wait_any(bool nohang) {
  int status = 0;
  pid_t r = retry([&] { return ::waitpid(-1, &status, nohang ? WNOHANG : 0); });
  if (r < 0) return fail(err("waitpid", ""));
  if (r == 0) return std::optional<std::pair<pid_t, int>>();
  return std::optional<std::pair<pid_t, int>>(std::pair{r, status});
}

Status wait_exited_unreaped(pid_t pid) {
  siginfo_t info{};
  if (retry([&] { return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT); }) != 0)
    return fail(err("waitid", ""));
  return {};
}

Status kill(pid_t pid, int sig) {
  if (::kill(pid, sig) != 0) return fail(err("kill", ""));
  return {};
}

void kill_in_signal_handler(pid_t pid, int sig) {
  int saved = errno;
  ::kill(pid, sig);
  errno = saved;
}

Result<UniqueFd> pidfd_open(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return fail(err("pidfd_open", std::to_string(pid)));
  return UniqueFd(fd);
}

Status pidfd_send_signal(int pidfd, int sig, std::string_view what) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0) return fail(err("kill", what));
  return {};
}

Status setsid(std::string_view what) {
  if (::setsid() < 0) return fail(err("setsid", what));
  return {};
}

Status dup2(int from, int to, std::string_view what) {
  if (retry([&] { return ::dup2(from, to); }) < 0) return fail(err("dup2", what));
  return {};
}

Status close_range(unsigned first, unsigned last, unsigned flags, std::string_view what) {
  if (::syscall(SYS_close_range, first, last, flags) != 0) return fail(err("close_range", what));
  return {};
}

Status prctl(int option, unsigned long arg2, unsigned long arg3, std::string_view what) {
  if (::prctl(option, arg2, arg3, 0UL, 0UL) != 0) return fail(err("prctl", what));
  return {};
}

Status setrlimit(int resource, const struct rlimit& limit, std::string_view what) {
  if (::setrlimit(resource, &limit) != 0) return fail(err("setrlimit", what));
  return {};
}

Status setns(int fd, int nstype, std::string_view what) {
  if (::setns(fd, nstype) != 0) return fail(err("setns", what));
  return {};
}

Status unshare(int flags, std::string_view what) {
  if (::unshare(flags) != 0) return fail(err("unshare", what));
  return {};
}

Status sethostname(const std::string& name) {
  if (::sethostname(name.data(), name.size()) != 0) return fail(err("sethostname", name));
  return {};
}

Status setdomainname(const std::string& name) {
  if (::setdomainname(name.data(), name.size()) != 0) return fail(err("setdomainname", name));
  return {};
}

Status setresuid(uid_t id, std::string_view what) {
  if (::setresuid(id, id, id) != 0) return fail(err("setuid", what));
  return {};
}

Status setresgid(gid_t id, std::string_view what) {
  if (::setresgid(id, id, id) != 0) return fail(err("setgid", what));
  return {};
}

Status setgroups(const std::vector<gid_t>& groups, std::string_view what) {
  if (::setgroups(groups.size(), groups.data()) != 0) return fail(err("setgroups", what));
  return {};
}

Status capset(uint64_t effective, uint64_t permitted, uint64_t inheritable, std::string_view what) {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return fail(err("capset", what));
  return {};
}

Status seccomp(unsigned operation, unsigned flags, void* args, std::string_view what) {
  if (::syscall(SYS_seccomp, operation, flags, args) != 0) return fail(err("seccomp", what));
  return {};
}

Result<int> bpf(int cmd, void* attr, unsigned size, std::string_view what) {
  int r = static_cast<int>(::syscall(SYS_bpf, cmd, attr, size));
  if (r < 0) return fail(err("bpf", what));
  return r;
}

Status getrandom(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = retry([&] { return ::getrandom(out.data() + done, out.size() - done, 0); });
    if (n < 0) return fail(err("getrandom", ""));
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<std::string> random_hex(size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  TRY_STATUS(getrandom(raw));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  for (uint8_t b : raw) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace base::sys
