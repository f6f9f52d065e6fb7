// A hostile container program: it attacks every standard stream it was
// given, and /dev/tty, the way an escape would, and reports what each attempt
// did (never the marker it tries to inject). Built static, for busybox roots.
//   stdio_probe            attack fds 0-2 and /dev/tty, print one line each
#include <errno.h>
#include <fcntl.h>
#include <linux/tiocl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

std::string result(int rc) {
  return rc == 0 ? "ok" : std::string(strerrorname_np(errno));
}

const char* kind(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return "closed";
  if (S_ISFIFO(st.st_mode)) return "fifo";
  if (S_ISCHR(st.st_mode)) return isatty(fd) ? "tty" : "chr";
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISSOCK(st.st_mode)) return "socket";
  return "other";
}

// Pushes the marker into the terminal's input, one byte at a time.
std::string inject(int fd) {
  const char marker[] =
      "@@INJ"
      "ECTED@@\n";  // split: the binary never holds it whole
  for (const char* c = marker; *c; ++c)
    if (ioctl(fd, TIOCSTI, c) != 0) return result(-1);
  return "ok";
}

std::string attack(int fd, const std::string& name) {
  std::string line = name + " kind=" + kind(fd);
  line += " tiocsti=" + inject(fd);
  char paste = TIOCL_PASTESEL;
  line += " tioclinux=" + result(ioctl(fd, TIOCLINUX, &paste));
  line += " fchmod=" + result(fchmod(fd, 0777));
  line += " fchown=" + result(fchown(fd, 4242, 4242));
  line += " pwrite=" + result(pwrite(fd, "@@OVERWRITTEN@@", 15, 0) == 15 ? 0 : -1);
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  int again = open(self.c_str(), O_WRONLY | O_TRUNC);
  if (again < 0) again = open(self.c_str(), O_RDONLY);
  line += " reopen=" + result(again >= 0 ? 0 : -1);
  if (again >= 0) {
    line += " reopened-fchmod=" + result(fchmod(again, 0777));
    line += " reopened-fchown=" + result(fchown(again, 4242, 4242));
    line += " reopened-tiocsti=" + inject(again);
    close(again);
  }
  return line;
}

}  // namespace

int main() {
  std::string report;
  for (int fd = 0; fd < 3; ++fd) report += attack(fd, "fd" + std::to_string(fd)) + "\n";
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (tty < 0)
    report += "devtty open=" + result(-1) + "\n";
  else
    report += attack(tty, "devtty") + "\n";
  report += "probe done\n";
  fputs(report.c_str(), stdout);
  return 0;
}
