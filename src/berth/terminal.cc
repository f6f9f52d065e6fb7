#include "berth/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace berth {

base::Result<base::UniqueFd> listen_console(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return base::fail_msg(fmt::format("console socket path too long: {}", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return base::fail(base::Error::sys(errno, "socket", "console"));
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return base::fail(base::Error::sys(errno, "bind", path));
  if (::listen(fd.get(), 1) != 0) return base::fail(base::Error::sys(errno, "listen", path));
  return fd;
}

base::Result<base::UniqueFd> receive_console_master(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  int ready;
  while ((ready = ::poll(&p, 1, 10000)) < 0 && errno == EINTR) {
  }
  if (ready <= 0) return base::fail_msg("the runtime sent no terminal within 10 s");
  base::UniqueFd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return base::fail(base::Error::sys(errno, "accept", "console socket"));
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (n < 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return base::fail_msg("the console socket carried no terminal");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return base::UniqueFd(fd);
}

bool copy_window_size(int from, int to) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) != 0) return false;
  return ::ioctl(to, TIOCSWINSZ, &ws) == 0;
}

RawTerminal::RawTerminal(int fd) {
  if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

}  // namespace berth
