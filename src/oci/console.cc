#include "oci/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
  base::UniqueFd s = TRY(base::sys::socket(AF_UNIX, SOCK_STREAM, 0, "console"));
  if (auto c = base::sys::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr); !c)
    return base::fail(
        base::Error::sys(c.error().code(), "connect", path).context("--console-socket"));
  return s;
}

base::Status setup_terminal(int socket_fd, bool bind_dev_console, uint16_t rows, uint16_t cols) {
  // posix_openpt(3) is this open.
  base::UniqueFd m = TRY(base::sys::open("/dev/ptmx", O_RDWR | O_NOCTTY));
  int master = m.get();
  TRY_STATUS(base::sys::unlockpt(master, "/dev/ptmx"));
  std::string name = TRY(base::sys::ptsname(master, "/dev/ptmx"));
  base::UniqueFd slave = TRY(base::sys::open(name, O_RDWR | O_NOCTTY));
  if (bind_dev_console) TRY_STATUS(bind_console(name));
  if (rows || cols) {
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    TRY_STATUS(base::sys::ioctl(slave.get(), TIOCSWINSZ, &ws, "TIOCSWINSZ", "process.consoleSize"));
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
  TRY_STATUS(base::sys::sendmsg(socket_fd, &msg, MSG_NOSIGNAL, "pty master --console-socket"));

  TRY_STATUS(base::sys::setsid("terminal"));
  TRY_STATUS(base::sys::ioctl(slave.get(), TIOCSCTTY, nullptr, "TIOCSCTTY", name));
  for (int fd = 0; fd < 3; ++fd) TRY_STATUS(base::sys::dup2(slave.get(), fd, name));
  return {};
}

base::Status leave_caller_session() {
  return base::sys::setsid().map_error(
      [](base::Error e) { return e.context("leave the caller's session"); });
}

}  // namespace oci
