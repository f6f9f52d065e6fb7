// A hostile container program: it tries the system calls Docker's default
// seccomp profile keeps from a container without extra capabilities and
// prints one "call=result" line each ("ok" or the errno's name).
// Built static, for busybox roots.
#include <errno.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

void report(const char* what, long rc) {
  std::printf("%s=%s\n", what, rc >= 0 ? "ok" : strerrorname_np(errno));
}

// clone() the raw way (glibc's wrapper wants a stack); the child exits at once.
long raw_clone(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return pid;
}

}  // namespace

int main() {
  io_uring_params params{};
  report("io_uring_setup", syscall(SYS_io_uring_setup, 4, &params));
  report("personality_read_implies_exec", personality(READ_IMPLIES_EXEC));
  report("personality_addr_no_randomize", personality(ADDR_NO_RANDOMIZE));
  report("personality_linux", personality(PER_LINUX));
  report("unshare_user_net", unshare(CLONE_NEWUSER | CLONE_NEWNET));
  report("clone_newuser", raw_clone(CLONE_NEWUSER));
  report("clone_plain", raw_clone(0));
  clone_args args{};
  args.flags = CLONE_NEWUSER | CLONE_NEWNET;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  report("clone3_newuser", pid);
  report("mount_tmpfs", mount("none", "/mnt", "tmpfs", 0, nullptr));
  report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  report("setns", syscall(SYS_setns, 0, 0));
  std::printf("probe done\n");
  return 0;
}
