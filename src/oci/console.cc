#include "oci/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/sys.h"
#include "oci/rootfs.h"

namespace oci {

base::Result<base::UniqueFd> connect_console_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return base::fail_msg("--console-socket: path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::fail(base::Error::sys(errno, "socket", "console"));
  base::UniqueFd s(fd);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return base::fail(base::Error::sys(errno, "connect", path).context("--console-socket"));
  return s;
}

base::Status setup_terminal(int socket_fd, bool bind_dev_console, uint16_t rows, uint16_t cols) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return base::fail(base::Error::sys(errno, "open", "/dev/ptmx"));
  base::UniqueFd m(master);
  if (::unlockpt(m.get()) != 0) return base::fail(base::Error::sys(errno, "unlockpt", "/dev/ptmx"));
  char name[64];
  if (::ptsname_r(m.get(), name, sizeof name) != 0)
    return base::fail(base::Error::sys(errno, "ptsname", "/dev/ptmx"));
  base::UniqueFd slave = TRY(base::sys::open(name, O_RDWR | O_NOCTTY));
  if (bind_dev_console) TRY_STATUS(bind_console(name));
  if (rows || cols) {
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (::ioctl(slave.get(), TIOCSWINSZ, &ws) != 0)
      return base::fail(base::Error::sys(errno, "TIOCSWINSZ", "process.consoleSize"));
  }

  char payload[] = "/dev/ptmx";
  iovec iov{payload, sizeof payload};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0)
    return base::fail(base::Error::sys(errno, "send pty master", "--console-socket"));

  if (::setsid() < 0) return base::fail(base::Error::sys(errno, "setsid", "terminal"));
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0)
    return base::fail(base::Error::sys(errno, "TIOCSCTTY", name));
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave.get(), fd) < 0) return base::fail(base::Error::sys(errno, "dup2", name));
  return {};
}

base::Status leave_caller_session() {
  return base::sys::setsid().map_error(
      [](base::Error e) { return e.context("leave the caller's session"); });
}

}  // namespace oci
