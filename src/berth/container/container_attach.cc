#include "berth/container/container_attach.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/sys.h"
#include "berth/container/attach_frames.h"
#include "berth/container/attach_point.h"
#include "berth/container/containers.h"
#include "berth/container/terminal.h"
#include "oci/lifecycle.h"

namespace berth {
namespace {

// What docker's client passes on to the container without a terminal.
const std::initializer_list<int> kProxied = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// Signals blocked (read from a signalfd instead) for its lifetime.
class BlockedSignals {
 public:
  explicit BlockedSignals(std::vector<int> signals) : signals_(std::move(signals)) {
    if (!signals_.empty() && !base::sys::block_signals(signals_)) signals_.clear();
  }
  ~BlockedSignals() {
    if (!signals_.empty()) (void)base::sys::unblock_signals(signals_);
  }
  BlockedSignals(const BlockedSignals&) = delete;
  BlockedSignals& operator=(const BlockedSignals&) = delete;
  const std::vector<int>& signals() const { return signals_; }

 private:
  std::vector<int> signals_;
};

base::Result<base::UniqueFd> connect_to(const std::string& dir, const std::string& name) {
  base::UniqueFd dir_fd = TRY(base::sys::open(dir, O_PATH | O_DIRECTORY));
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir_fd.get(), kAttachSocket);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  base::UniqueFd fd = TRY(base::sys::socket(AF_UNIX, SOCK_STREAM, 0, "attach socket"));
  auto made = base::sys::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (!made)
    return base::fail_msg(
        fmt::format("container {} takes no attachment now: {}", name, made.error().message()));
  return fd;
}

// Frames for the monitor, written as it takes them: never blocking on a
// monitor that stopped reading our input, never SIGPIPE from one that is gone.
class Outbox {
 public:
  void add(attach::Kind kind, const char* data, size_t n) { attach::encode(kind, data, n, queue_); }
  bool full() const { return queue_.size() >= kMostQueued; }
  bool empty() const { return queue_.empty(); }
  // Sends what the socket takes now; false once the monitor is gone.
  bool flush(int fd) {
    while (!queue_.empty()) {
      auto n = base::sys::send(fd, queue_.data(), queue_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (!n) return n.error().code() == EAGAIN;
      queue_.erase(0, *n);
    }
    return true;
  }

 private:
  static constexpr size_t kMostQueued = size_t{1} << 20;
  std::string queue_;
};

void queue_window_size(Outbox& out) {
  winsize ws{};
  if (!base::sys::ioctl(0, TIOCGWINSZ, &ws, "TIOCGWINSZ")) return;
  char b[4] = {static_cast<char>(ws.ws_row & 0xff), static_cast<char>(ws.ws_row >> 8),
               static_cast<char>(ws.ws_col & 0xff), static_cast<char>(ws.ws_col >> 8)};
  out.add(attach::Kind::kWindow, b, sizeof b);
}

// Our input with the detach keys taken out: the bytes to send, and whether
// the whole sequence was typed.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::string keys) : keys_(std::move(keys)) {}
  bool feed(const char* data, size_t n, std::string& out) {
    for (size_t i = 0; i < n; ++i) {
      if (!keys_.empty() && data[i] == keys_[matched_]) {
        if (++matched_ == keys_.size()) return true;
        continue;
      }
      out.append(keys_, 0, matched_);  // a prefix that was not the sequence after all
      matched_ = 0;
      if (!keys_.empty() && data[i] == keys_[0]) {
        matched_ = 1;
        if (keys_.size() == 1) return true;
        continue;
      }
      out += data[i];
    }
    return false;
  }

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace

base::Result<std::string> parse_detach_keys(const std::string& text) {
  std::string out;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    std::string key = text.substr(start, comma == std::string::npos ? comma : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (key.size() == 1) {
      out += key;
    } else if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(key[5])));
      if (c >= 'a' && c <= 'z')
        out += static_cast<char>(c - 'a' + 1);
      else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
        out += static_cast<char>(c == '@' ? 0 : c - '[' + 27);
      else
        return base::fail_msg(fmt::format("--detach-keys '{}': unknown key '{}'", text, key));
    } else {
      return base::fail_msg(fmt::format(
          "--detach-keys '{}': keys are single characters or ctrl-X, separated by commas", text));
    }
  }
  return out;
}

base::Result<int> attach_container(const Paths& p, const std::string& id_or_name,
                                   const AttachOptions& o) {
  std::string keys = TRY(parse_detach_keys(o.detach_keys));
  ContainerRecord rec = TRY(find_container(p.root, id_or_name));
  auto state = TRY(inspect_container(p, rec.id));
  if (state["State"]["Status"] == "paused")
    return base::fail_msg(
        fmt::format("container {} is paused: unpause it before attaching", rec.name));
  if (state["State"]["Status"] != "running")
    return base::fail_msg(
        fmt::format("container {} is not running: start it before attaching", rec.name));
  bool with_stdin = rec.interactive && !o.no_stdin;
  if (rec.tty && !o.no_stdin && !::isatty(0))
    return base::fail_msg("the input device is not a TTY (attach with --no-stdin)");
  base::UniqueFd sock = TRY(connect_to(container_dir(p.root, rec.id), rec.name));

  std::vector<int> caught = {SIGWINCH};
  if (!rec.tty) caught = o.sig_proxy ? std::vector<int>(kProxied) : std::vector<int>();
  BlockedSignals blocked(std::move(caught));
  base::UniqueFd signals;
  if (!blocked.signals().empty())
    signals = TRY(base::sys::signalfd(blocked.signals(), "attach signals"));
  std::optional<RawTerminal> raw;
  raw.emplace(rec.tty && with_stdin ? 0 : -1);
  Outbox outbox;
  if (rec.tty) queue_window_size(outbox);
  DetachMatcher detach(rec.tty ? keys : "");

  std::optional<int> status;
  attach::Decoder decoder;
  bool read_stdin = with_stdin;
  std::vector<char> buf(attach::kMostPayload);
  for (;;) {
    auto sock_events = static_cast<short>(POLLIN | (outbox.empty() ? 0 : POLLOUT));
    pollfd fds[3] = {{sock.get(), sock_events, 0},
                     {read_stdin && !outbox.full() ? 0 : -1, POLLIN, 0},
                     {signals.get(), POLLIN, 0}};
    TRY_STATUS(base::sys::poll(fds, -1));
    if ((fds[0].revents & POLLOUT) && !outbox.flush(sock.get()))
      read_stdin = false;  // the monitor is gone: what it sends, if anything, is still read
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info{};
      while (base::sys::read(signals.get(), &info, sizeof info).value_or(0) == sizeof info) {
        if (static_cast<int>(info.ssi_signo) == SIGWINCH)
          queue_window_size(outbox);
        else
          (void)oci::kill_container(p.run_root, rec.id, static_cast<int>(info.ssi_signo), false);
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
      auto n = base::sys::read(0, buf.data(), buf.size());
      if (!n || *n == 0) {
        read_stdin = false;  // the container's stdin stays open, as docker's does
      } else {
        std::string out;
        bool detached = detach.feed(buf.data(), *n, out);
        if (!out.empty()) outbox.add(attach::Kind::kStdin, out.data(), out.size());
        if (detached) {
          raw.reset();  // the terminal as it was, then the words
          std::fputs("read escape sequence\n", stderr);
          return 1;
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto n = base::sys::read(sock.get(), buf.data(), buf.size());
      if (!n || *n == 0) break;
      decoder.feed(buf.data(), *n);
      while (auto f = decoder.next()) {
        if (f->kind == attach::Kind::kStdout || f->kind == attach::Kind::kStderr) {
          int to = f->kind == attach::Kind::kStdout ? 1 : 2;
          (void)base::sys::write_all(to, f->payload.data(), f->payload.size());
        } else if (f->kind == attach::Kind::kExit && f->payload.size() == 4) {
          auto b = [&](size_t i) {
            return static_cast<uint32_t>(static_cast<unsigned char>(f->payload[i]));
          };
          status = static_cast<int>(b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24);
        }
      }
      if (decoder.broken()) break;
    }
  }
  if (status) return *status;
  // The monitor went without a word (it was killed): the record has the end.
  return wait_container(p, rec.id);
}

}  // namespace berth
