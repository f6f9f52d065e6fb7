#include "berth/container/attach_point.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "base/sys.h"

namespace berth {
namespace {

constexpr size_t kMostClients = 16;
constexpr size_t kMostQueuedOutput = size_t{8} << 20;
constexpr size_t kMostQueuedInput = size_t{1} << 20;
constexpr size_t kReadChunk = size_t{64} * 1024;

}  // namespace

base::Result<AttachPoint> AttachPoint::listen(const std::string& dir, bool take_input) {
  AttachPoint a;
  a.dir_fd_ = TRY(base::sys::open(dir, O_PATH | O_DIRECTORY));
  // Through the directory's descriptor: however long its path, the name fits.
  std::string path = fmt::format("/proc/self/fd/{}/{}", a.dir_fd_.get(), kAttachSocket);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  (void)base::sys::unlinkat(a.dir_fd_.get(), kAttachSocket, 0);  // a monitor's before it
  base::UniqueFd fd = TRY(base::sys::socket(AF_UNIX, SOCK_STREAM, 0, "attach socket"));
  TRY_STATUS(
      base::sys::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, "attach socket"));
  TRY_STATUS(base::sys::fchmodat(a.dir_fd_.get(), kAttachSocket, 0600, "attach socket"));
  TRY_STATUS(base::sys::listen(fd.get(), static_cast<int>(kMostClients), "attach socket"));
  TRY_STATUS(base::sys::set_nonblocking(fd.get(), true));
  a.listener_ = std::move(fd);
  a.take_input_ = take_input;
  if (take_input) {
    auto pipe = TRY(base::sys::pipe("attach input"));
    TRY_STATUS(base::sys::set_nonblocking(pipe.write.get(), true));
    a.input_read_ = std::move(pipe.read);
    a.input_write_ = std::move(pipe.write);
  }
  return a;
}

AttachPoint::~AttachPoint() {
  if (dir_fd_) (void)base::sys::unlinkat(dir_fd_.get(), kAttachSocket, 0);
}

void AttachPoint::prepare(std::vector<pollfd>& fds) {
  fds.push_back({clients_.size() < kMostClients ? listener_.get() : -1, POLLIN, 0});
  fds.push_back({input_.empty() ? -1 : input_write_.get(), POLLOUT, 0});
  polled_.clear();
  for (auto& c : clients_) {
    short events = 0;
    if (input_.size() < kMostQueuedInput) events |= POLLIN;
    if (!c.out.empty()) events |= POLLOUT;
    fds.push_back({c.fd.get(), events, 0});
    polled_.push_back(&c);
  }
}

void AttachPoint::service(std::span<const pollfd> fds) {
  if (fds.size() < 2) return;
  std::vector<Client*> gone;
  for (size_t i = 0; i < polled_.size() && i + 2 < fds.size(); ++i) {
    Client& c = *polled_[i];
    short ready = fds[i + 2].revents;
    bool ok = true;
    if (ready & (POLLIN | POLLHUP | POLLERR)) ok = read_from(c);
    if (ok && (ready & POLLOUT)) ok = flush(c);
    if (!ok) gone.push_back(&c);
  }
  polled_.clear();
  for (Client* c : gone) clients_.remove_if([c](const Client& x) { return &x == c; });
  if (fds[1].revents) feed_input();
  if (fds[0].revents & POLLIN) accept_client();
}

void AttachPoint::accept_client() {
  while (clients_.size() < kMostClients) {
    auto fd = base::sys::accept(listener_.get(), nullptr, nullptr);
    if (!fd) {
      int code = fd.error().code();
      // Out of descriptors or worse: stop listening rather than spin on it.
      if (code != EAGAIN && code != EINTR && code != ECONNABORTED) listener_.reset();
      return;
    }
    ucred peer{};
    socklen_t len = sizeof peer;
    if (!base::sys::getsockopt(fd->get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) ||
        peer.uid != ::geteuid())
      continue;  // not the monitor's user: closed unanswered
    if (!base::sys::set_nonblocking(fd->get(), true)) continue;
    clients_.push_back(Client{std::move(*fd), {}, {}});
  }
}

bool AttachPoint::read_from(Client& c) {
  char buf[kReadChunk];
  auto n = base::sys::read(c.fd.get(), buf, sizeof buf);
  if (!n) return n.error().code() == EAGAIN;
  if (*n == 0) return false;
  c.in.feed(buf, *n);
  while (auto f = c.in.next()) {
    if (f->kind == attach::Kind::kStdin) {
      if (take_input_) input_ += f->payload;
    } else if (f->kind == attach::Kind::kWindow && f->payload.size() == 4) {
      auto b = [&](size_t i) { return static_cast<unsigned char>(f->payload[i]); };
      winsize ws{};
      ws.ws_row = static_cast<unsigned short>(b(0) | b(1) << 8);
      ws.ws_col = static_cast<unsigned short>(b(2) | b(3) << 8);
      if (terminal_ >= 0) (void)base::sys::ioctl(terminal_, TIOCSWINSZ, &ws, "TIOCSWINSZ");
    } else {
      return false;  // a kind only the monitor sends: not one of our clients
    }
  }
  if (!input_.empty()) feed_input();
  return !c.in.broken();
}

bool AttachPoint::flush(Client& c) {
  while (!c.out.empty()) {
    auto n = base::sys::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (!n) return n.error().code() == EAGAIN;
    c.out.erase(0, *n);
  }
  return true;
}

void AttachPoint::feed_input() {
  if (!input_write_) return;
  auto n = base::sys::write(input_write_.get(), input_.data(), input_.size());
  if (n) input_.erase(0, *n);
}

void AttachPoint::broadcast(attach::Kind stream, const char* data, size_t n) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->out.size() > kMostQueuedOutput) {  // it stopped reading: let it go
      it = clients_.erase(it);
      continue;
    }
    attach::encode(stream, data, n, it->out);
    ++it;
  }
}

void AttachPoint::end_life(int status, int wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  char code[4] = {static_cast<char>(status & 0xff), static_cast<char>((status >> 8) & 0xff),
                  static_cast<char>((status >> 16) & 0xff),
                  static_cast<char>((status >> 24) & 0xff)};
  for (auto& c : clients_) attach::encode(attach::Kind::kExit, code, sizeof code, c.out);
  while (!clients_.empty()) {
    clients_.remove_if([](Client& c) { return !flush(c) || c.out.empty(); });
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (clients_.empty() || left <= 0) break;
    std::vector<pollfd> fds;
    for (auto& c : clients_) fds.push_back({c.fd.get(), POLLOUT, 0});
    if (!base::sys::poll(fds, static_cast<int>(left))) break;
  }
  clients_.clear();
}

}  // namespace berth
