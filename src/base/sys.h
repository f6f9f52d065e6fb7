// sys:: — one thin wrapper per system call (or libc call that sets errno), the
// only code that reads errno. Each retries EINTR, opens with O_CLOEXEC, and
// returns a Result whose Error names the call and its subject (usually a path).
// Thread-safety: as the underlying system call.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace base::sys {

// Files and directories. `what` names the subject in errors (a path for users).
Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> openat(int dirfd, const std::string& path, int flags, mode_t mode = 0,
                        std::string_view what = {});
// openat2(2) with `resolve` flags (RESOLVE_BENEATH etc.).
Result<UniqueFd> openat2(int dirfd, const std::string& path, int flags, mode_t mode,
                         uint64_t resolve, std::string_view what = {});
Result<struct stat> fstat(int fd, std::string_view what = {});
Result<struct stat> fstatat(int dirfd, const std::string& path, int flags,
                            std::string_view what = {});
Status mkdirat(int dirfd, const std::string& path, mode_t mode, std::string_view what = {});
Status symlinkat(const std::string& target, int dirfd, const std::string& path,
                 std::string_view what = {});
Result<std::string> readlinkat(int dirfd, const std::string& path, std::string_view what = {});
Status renameat(int olddir, const std::string& oldpath, int newdir, const std::string& newpath,
                std::string_view what = {});
Status unlinkat(int dirfd, const std::string& path, int flags, std::string_view what = {});
// linkat(2): `newpath` becomes another name of `oldpath` (EEXIST when taken).
Status linkat(int olddir, const std::string& oldpath, int newdir, const std::string& newpath,
              int flags, std::string_view what = {});
Status fchmod(int fd, mode_t mode, std::string_view what = {});
Status fchmodat(int dirfd, const std::string& path, mode_t mode, std::string_view what = {});
Status futimens(int fd, const struct timespec times[2], std::string_view what = {});
Status utimensat(int dirfd, const std::string& path, const struct timespec times[2], int flags,
                 std::string_view what = {});
Status fchown(int fd, uid_t uid, gid_t gid, std::string_view what = {});
Status ftruncate(int fd, off_t length, std::string_view what = {});
// Reserves space; EOPNOTSUPP is not an error (returns ok without reserving).
Status fallocate(int fd, int mode, off_t offset, off_t length, std::string_view what = {});
Status fsync(int fd, std::string_view what = {});
// lseek with SEEK_DATA / SEEK_HOLE; returns -1 (no error) for ENXIO (no more data).
Result<off_t> lseek(int fd, off_t offset, int whence, std::string_view what = {});
Status posix_fadvise(int fd, off_t offset, off_t length, int advice);
Status mknodat(int dirfd, const std::string& path, mode_t mode, dev_t dev,
               std::string_view what = {});
Status mkfifo(const std::string& path, mode_t mode);
// fchownat(2); with AT_EMPTY_PATH and path "" it changes dirfd itself (an O_PATH fd).
Status fchownat(int dirfd, const std::string& path, uid_t uid, gid_t gid, int flags,
                std::string_view what = {});
Status access(const std::string& path, int mode);
// setxattr(2) and fsetxattr(2): sets the extended attribute `name`.
Status setxattr(const std::string& path, const std::string& name, const void* value, size_t size,
                int flags, std::string_view what = {});
Status fsetxattr(int fd, const std::string& name, const void* value, size_t size, int flags,
                 std::string_view what = {});
// lgetxattr(2) (a symlink's own attributes): the value, or nullopt when the
// file has no such attribute or its filesystem none at all.
Result<std::optional<std::string>> lgetxattr(const std::string& path, const std::string& name,
                                             std::string_view what = {});
// llistxattr(2) and flistxattr(2): the attributes' names; none where the
// filesystem has no attributes.
Result<std::vector<std::string>> llistxattr(const std::string& path, std::string_view what = {});
Result<std::vector<std::string>> flistxattr(int fd, std::string_view what = {});
// fgetxattr(2): the value, or nullopt when there is no such attribute.
Result<std::optional<std::string>> fgetxattr(int fd, const std::string& name,
                                             std::string_view what = {});
// fremovexattr(2); a missing attribute is fine.
Status fremovexattr(int fd, const std::string& name, std::string_view what = {});
// lremovexattr(2); a missing attribute is fine.
Status lremovexattr(const std::string& path, const std::string& name, std::string_view what = {});
Result<struct statfs> statfs(const std::string& path);
// realpath(3): the absolute path with every symlink resolved.
Result<std::string> realpath(const std::string& path);
// memfd_create(2) with MFD_CLOEXEC.
Result<UniqueFd> memfd_create(const std::string& name, unsigned flags, std::string_view what = {});
// fopen(3) with "e" (close-on-exec) added to `mode`; the caller fcloses it.
Result<FILE*> fopen(const std::string& path, const char* mode, std::string_view what = {});
// fdopendir(3): the DIR owns `fd` from then on (closedir closes it).
Result<DIR*> fdopendir(int fd, std::string_view what = {});
// readdir(3): the next entry, or nullptr at the end.
Result<struct dirent*> readdir(DIR* dir, std::string_view what = {});

// Mounts and roots.
// mount(2); an empty `source` or `data` is passed as NULL.
Status mount(const std::string& source, const std::string& target, const char* type,
             unsigned long flags, const std::string& data, std::string_view what = {});
Status umount2(const std::string& target, int flags, std::string_view what = {});
// pivot_root(2): `new_root` becomes / and the old root moves to `put_old`.
Status pivot_root(const std::string& new_root, const std::string& put_old,
                  std::string_view what = {});
Status chroot(const std::string& path, std::string_view what = {});
Status chdir(const std::string& path, std::string_view what = {});
Status fchdir(int fd, std::string_view what = {});
// mount_setattr(2) on `path` and, with `recursive`, every mount below it:
// sets `set` and clears `clear` (MOUNT_ATTR_* bits).
Status mount_setattr(const std::string& path, bool recursive, uint64_t set, uint64_t clear,
                     std::string_view what = {});

// Data. Partial transfers are returned as counts, never retried silently.
Result<size_t> read(int fd, void* buf, size_t len, std::string_view what = {});
Result<size_t> pread(int fd, void* buf, size_t len, off_t offset, std::string_view what = {});
Result<size_t> write(int fd, const void* buf, size_t len, std::string_view what = {});
Result<size_t> pwrite(int fd, const void* buf, size_t len, off_t offset,
                      std::string_view what = {});
Result<size_t> sendfile(int out_fd, int in_fd, off_t* offset, size_t len,
                        std::string_view what = {});
// copy_file_range(2) from `*in_off` of `in_fd` to `*out_off` of `out_fd`,
// advancing both: the bytes copied, 0 at the end of `in_fd`.
Result<size_t> copy_file_range(int in_fd, off_t* in_off, int out_fd, off_t* out_off, size_t len,
                               std::string_view what = {});
// Loops until all `len` bytes are written at `offset`.
Status pwrite_all(int fd, const void* buf, size_t len, off_t offset, std::string_view what = {});
// Loops until all bytes are written.
Status write_all(int fd, const void* buf, size_t len, std::string_view what = {});
// close(2) with its error (a failed write-back shows here), never retried.
Status close(UniqueFd fd, std::string_view what = {});

// flock(2) LOCK_EX | LOCK_NB: true when locked, false when another holds it.
Result<bool> flock_exclusive(int fd, std::string_view what = {});
// flock(2) LOCK_EX, waiting as long as another holds it.
Status flock_wait(int fd, std::string_view what = {});
// fcntl(2) record locks on a whole file: held by the process, never by a
// child it forks, and released when it exits or closes any fd of the file.
// F_SETLK (`wait` false: true when taken, false when another process holds
// it) or F_SETLKW (`wait` true: always true once taken). `type` is F_RDLCK
// or F_WRLCK.
Result<bool> record_lock(int fd, short type, bool wait, std::string_view what = {});
// F_GETLK for a write lock: a conflicting lock another process holds, or
// nullopt when none does. Its pid is 0 when that process is outside our
// pid namespace: only `type` (F_RDLCK or F_WRLCK) says a lock is there.
struct RecordLockHolder {
  short type = 0;
  pid_t pid = 0;
};
Result<std::optional<RecordLockHolder>> record_lock_holder(int fd, std::string_view what = {});

// Sets or clears FD_CLOEXEC.
Status set_cloexec(int fd, bool on);
// dup(2) with O_CLOEXEC: the lowest free descriptor from `lowest` on.
Result<int> dup(int fd, int lowest = 0);

// Sockets and readiness.
// socket(2) with SOCK_CLOEXEC.
Result<UniqueFd> socket(int domain, int type, int protocol = 0, std::string_view what = {});
// socketpair(2) with SOCK_CLOEXEC on both ends.
Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, std::string_view what = {});
Status bind(int fd, const struct sockaddr* addr, socklen_t len, std::string_view what = {});
Status listen(int fd, int backlog, std::string_view what = {});
// accept4(2) with SOCK_CLOEXEC; `addr` and `len` (may be null) receive the peer.
Result<UniqueFd> accept(int fd, struct sockaddr* addr, socklen_t* len);
// connect(2), not retried: EINTR and EINPROGRESS are the caller's to handle.
Status connect(int fd, const struct sockaddr* addr, socklen_t len, std::string_view what = {});
Status getsockname(int fd, struct sockaddr* addr, socklen_t* len);
Status setsockopt(int fd, int level, int name, const void* value, socklen_t len,
                  std::string_view what = {});
Status getsockopt(int fd, int level, int name, void* value, socklen_t* len,
                  std::string_view what = {});
// send(2) and sendmsg(2) with `flags` (MSG_NOSIGNAL for a peer that may be gone).
Result<size_t> send(int fd, const void* buf, size_t len, int flags, std::string_view what = {});
Result<size_t> sendmsg(int fd, const struct msghdr* msg, int flags, std::string_view what = {});
// recv(2) with `flags` (MSG_PEEK to look without consuming).
Result<size_t> recv(int fd, void* buf, size_t len, int flags, std::string_view what = {});
// recvmsg(2) with `flags` (MSG_CMSG_CLOEXEC for descriptors passed in `msg`).
Result<size_t> recvmsg(int fd, struct msghdr* msg, int flags, std::string_view what = {});
// shutdown(2) with `how` (SHUT_RD, SHUT_WR, SHUT_RDWR).
Status shutdown(int fd, int how);
// Sets or clears O_NONBLOCK.
Status set_nonblocking(int fd, bool on);
// poll(2) on one descriptor: the events that are ready, or 0 once `timeout_ms`
// (-1: none) has passed. EINTR restarts the wait with the full timeout.
Result<short> poll_one(int fd, short events, int timeout_ms);
// poll(2) on many: how many are ready (their revents set), 0 on timeout.
// Entries with fd -1 are skipped, as poll does. EINTR restarts the wait.
Result<int> poll(std::span<struct pollfd> fds, int timeout_ms);

// Timers and signals as descriptors, for a poll loop.
// timerfd_create(2) on `clock` (CLOCK_MONOTONIC) with TFD_CLOEXEC | TFD_NONBLOCK.
Result<UniqueFd> timerfd_create(int clock, std::string_view what = {});
// timerfd_settime(2) with TFD_TIMER_ABSTIME: one expiry at `when` on the
// timer's clock; {0, 0} disarms it. Setting it clears expiries not yet read.
Status timerfd_settime_abs(int fd, const struct timespec& when, std::string_view what = {});
// pthread_sigmask(3) SIG_BLOCK: `signals` stay pending for this thread
// (to be read from a signalfd) instead of being delivered.
Status block_signals(std::span<const int> signals);
// pthread_sigmask(3) SIG_UNBLOCK: the opposite (a child before its exec).
Status unblock_signals(std::span<const int> signals);
// signalfd(2) with SFD_CLOEXEC | SFD_NONBLOCK: readable while one of
// `signals` (blocked first, by block_signals) is pending.
Result<UniqueFd> signalfd(std::span<const int> signals, std::string_view what = {});

// Terminals and devices.
// ioctl(2); errors name the request as `request_name` ("TIOCSWINSZ").
Status ioctl(int fd, unsigned long request, void* arg, std::string_view request_name,
             std::string_view what = {});
// ioctl(2) whose argument is a number, not a pointer (TUNSETOFFLOAD).
Status ioctl_value(int fd, unsigned long request, unsigned long value,
                   std::string_view request_name, std::string_view what = {});
// unlockpt(3) and ptsname_r(3) on a pty master.
Status unlockpt(int fd, std::string_view what = {});
Result<std::string> ptsname(int fd, std::string_view what = {});

// Processes.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
// pipe2(2) with O_CLOEXEC on both ends.
Result<Pipe> pipe(std::string_view what = {});
// fork(2): 0 in the child.
Result<pid_t> fork(std::string_view what = {});
// clone(2) without a new stack, like fork(2) with `flags` (CLONE_NEW*) and
// SIGCHLD: 0 in the child.
Result<pid_t> clone(unsigned long flags, std::string_view what = {});
// clone3(2) the same way, the child born in the cgroup v2 directory
// `cgroup_fd` (CLONE_INTO_CGROUP): no migration afterwards, so none of the
// global lock a migration takes. ENOSYS or EINVAL on kernels before 5.7.
Result<pid_t> clone_into_cgroup(unsigned long flags, int cgroup_fd, std::string_view what = {});
// execve(2): returns only on failure, with the error.
Error execve(const std::string& path, char* const argv[], char* const envp[]);
// posix_spawnp(3): argv[0] is looked up in PATH. `stdin_fd` and `stdout_fd`
// (-1: inherited) become the child's descriptors 0 and 1.
Result<pid_t> spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd);
// waitpid(2): the raw status, or nullopt with `nohang` while it runs.
Result<std::optional<int>> waitpid(pid_t pid, bool nohang);
// waitpid(-1): any child's pid and raw status (ECHILD when none is left),
// or nullopt with `nohang` while all run.
Result<std::optional<std::pair<pid_t, int>>> wait_any(bool nohang);
// waitid(P_PID, pid, WEXITED | WNOWAIT): blocks until `pid` has ended, and
// leaves it unreaped (its pid stays its own until waitpid).
Status wait_exited_unreaped(pid_t pid);
Status kill(pid_t pid, int sig);
// kill(2) for a signal handler: async-signal-safe, so no Error (it would
// allocate); a failure is ignored and errno is left as it was.
void kill_in_signal_handler(pid_t pid, int sig);
// pidfd_open(2): a descriptor that becomes readable when `pid` exits.
Result<UniqueFd> pidfd_open(pid_t pid);
Status pidfd_send_signal(int pidfd, int sig, std::string_view what = {});
// setsid(2): a new session and process group, with no controlling terminal.
Status setsid(std::string_view what = {});
// dup2(2): `from` becomes `to` too (without close-on-exec, as for a child's stdio).
Status dup2(int from, int to, std::string_view what = {});
// close_range(2) with `flags` (CLOSE_RANGE_CLOEXEC to mark rather than close).
Status close_range(unsigned first, unsigned last, unsigned flags, std::string_view what = {});
// prctl(2) with up to two arguments (the rest 0).
Status prctl(int option, unsigned long arg2, unsigned long arg3 = 0, std::string_view what = {});
Status setrlimit(int resource, const struct rlimit& limit, std::string_view what = {});

// Namespaces and credentials.
Status setns(int fd, int nstype, std::string_view what = {});
Status unshare(int flags, std::string_view what = {});
Status sethostname(const std::string& name);
Status setdomainname(const std::string& name);
// setresuid(2) and setresgid(2) with real, effective and saved ids all `id`.
Status setresuid(uid_t id, std::string_view what = {});
Status setresgid(gid_t id, std::string_view what = {});
Status setgroups(const std::vector<gid_t>& groups, std::string_view what = {});
// capset(2) for this thread: the effective, permitted and inheritable sets as
// bit masks (bit n: capability n).
Status capset(uint64_t effective, uint64_t permitted, uint64_t inheritable,
              std::string_view what = {});

// Filters.
// seccomp(2) `operation` with `flags` and `args` (a sock_fprog for a filter).
Status seccomp(unsigned operation, unsigned flags, void* args, std::string_view what = {});
// bpf(2) `cmd` on `attr` (a union bpf_attr of `size` bytes): its non-negative result.
Result<int> bpf(int cmd, void* attr, unsigned size, std::string_view what = {});

// Randomness from the kernel (getrandom, blocking until seeded).
Status getrandom(std::span<uint8_t> out);
// `bytes` random bytes as lowercase hex (ids, tokens).
Result<std::string> random_hex(size_t bytes);

}  // namespace base::sys
