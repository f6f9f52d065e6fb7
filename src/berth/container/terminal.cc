#include "berth/container/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/sys.h"

namespace berth {

base::Result<base::UniqueFd> listen_console(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return base::fail_msg(fmt::format("console socket path too long: {}", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  base::UniqueFd fd = TRY(base::sys::socket(AF_UNIX, SOCK_STREAM, 0, "console"));
  ::unlink(path.c_str());
  TRY_STATUS(base::sys::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, path));
  if (auto s = base::sys::listen(fd.get(), 1, path); !s)
    return base::fail(base::Error::sys(s.error().code(), "listen", path));
  return fd;
}

base::Result<base::UniqueFd> receive_console_master(int listen_fd) {
  auto ready = base::sys::poll_one(listen_fd, POLLIN, 10000);
  if (!ready || *ready == 0) return base::fail_msg("the runtime sent no terminal within 10 s");
  auto accepted = base::sys::accept(listen_fd, nullptr, nullptr);
  if (!accepted)
    return base::fail(base::Error::sys(accepted.error().code(), "accept", "console socket"));
  base::UniqueFd conn = std::move(*accepted);
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  auto n = base::sys::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC, "console socket");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!n || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return base::fail_msg("the console socket carried no terminal");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return base::UniqueFd(fd);
}

bool copy_window_size(int from, int to) {
  winsize ws{};
  if (!base::sys::ioctl(from, TIOCGWINSZ, &ws, "TIOCGWINSZ")) return false;
  return base::sys::ioctl(to, TIOCSWINSZ, &ws, "TIOCSWINSZ").has_value();
}

namespace {

int g_winch_pipe = -1;  // written by the SIGWINCH handler: the user's window changed
void on_winch(int) {
  if (g_winch_pipe >= 0) (void)!::write(g_winch_pipe, "w", 1);
}

}  // namespace

void relay_terminal(int master, int input, bool follow_size,
                    const std::function<void(const char*, size_t)>& on_output, RelayGuest* guest) {
  base::sys::Pipe winch;
  struct sigaction saved {};
  if (follow_size) {
    auto made = base::sys::pipe("window size changes");
    if (made && base::sys::set_nonblocking(made->read.get(), true) &&
        base::sys::set_nonblocking(made->write.get(), true))
      winch = std::move(*made);
  }
  if (winch.read) {
    g_winch_pipe = winch.write.get();
    struct sigaction sa {};
    sa.sa_handler = on_winch;
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGWINCH, &sa, &saved);
  }
  {
    RawTerminal raw(input);
    bool read_stdin = input >= 0;
    char buf[65536];
    std::vector<pollfd> fds;
    // The master never blocks us: a program that does not read its terminal
    // leaves input pending here while its output (and every attach client)
    // is still served.
    (void)base::sys::set_nonblocking(master, true);
    std::string pending;  // input the terminal has not taken yet
    for (;;) {
      auto master_events = static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT));
      fds = {{master, master_events, 0},
             {read_stdin && pending.empty() ? input : -1, POLLIN, 0},
             {winch.read.get(), POLLIN, 0}};
      if (guest) guest->prepare(fds);
      if (!base::sys::poll(fds, -1)) break;
      if (guest) guest->service(std::span<const pollfd>(fds).subspan(3));
      if (fds[2].revents & POLLIN) {
        while (base::sys::read(winch.read.get(), buf, sizeof buf).value_or(0) > 0) {
        }
        copy_window_size(0, master);
      }
      if (fds[1].revents & (POLLIN | POLLHUP)) {
        auto n = base::sys::read(input, buf, sizeof buf);
        if (!n || *n == 0)
          read_stdin = false;
        else
          pending.assign(buf, *n);
      }
      if (!pending.empty() && (fds[0].revents & POLLOUT)) {
        auto n = base::sys::write(master, pending.data(), pending.size());
        if (n)
          pending.erase(0, *n);
        else if (n.error().code() != EAGAIN)
          pending.clear();  // the terminal is going: the rest is for nobody
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto n = base::sys::read(master, buf, sizeof buf);
        if (!n && n.error().code() == EAGAIN) continue;
        if (!n || *n == 0) break;  // EIO: every holder of the pty's other end is gone
        on_output(buf, *n);
      }
    }
  }
  if (winch.read) {
    ::sigaction(SIGWINCH, &saved, nullptr);
    g_winch_pipe = -1;
    winch.read.reset();
    winch.write.reset();
  }
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
