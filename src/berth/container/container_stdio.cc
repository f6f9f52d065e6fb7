#include "berth/container/container_stdio.h"

#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <string>

#include "base/sys.h"

namespace berth {
namespace {

constexpr size_t kChunk = size_t{64} * 1024;
// Reads per stream per wake-up: a fast stdout does not starve stderr or stdin.
constexpr int kReadsPerTurn = 16;
// After the process is gone, what a background child keeps writing is not
// waited for beyond this much.
constexpr int kFinalReads = 256;

// Reads what `fd` has now (at most `reads` chunks) into `sink`; false once
// it is closed: EOF, an error, or a sink that nobody reads.
bool drain(base::UniqueFd& fd, int stream, const ContainerStdio::OutputSink& sink, char* buf,
           int reads) {
  for (int i = 0; i < reads; ++i) {
    auto n = base::sys::read(fd.get(), buf, kChunk);
    if (!n && n.error().code() == EAGAIN) return true;
    if (!n || *n == 0 || !sink(stream, buf, *n)) {
      fd.reset();
      return false;
    }
    if (*n < kChunk) return true;
  }
  return true;
}

}  // namespace

base::Result<ContainerStdio> ContainerStdio::make(bool open_stdin) {
  ContainerStdio s;
  if (open_stdin) {
    auto in = TRY(base::sys::pipe());
    s.theirs_[0] = std::move(in.read);
    s.stdin_ = std::move(in.write);
    TRY_STATUS(base::sys::set_nonblocking(s.stdin_.get(), true));
  } else {
    s.theirs_[0] = TRY(base::sys::open("/dev/null", O_RDONLY));
  }
  auto out = TRY(base::sys::pipe());
  auto err = TRY(base::sys::pipe());
  s.theirs_[1] = std::move(out.write);
  s.theirs_[2] = std::move(err.write);
  s.stdout_ = std::move(out.read);
  s.stderr_ = std::move(err.read);
  TRY_STATUS(base::sys::set_nonblocking(s.stdout_.get(), true));
  TRY_STATUS(base::sys::set_nonblocking(s.stderr_.get(), true));
  return s;
}

std::array<int, 3> ContainerStdio::container_ends() const {
  return {theirs_[0].get(), theirs_[1].get(), theirs_[2].get()};
}

void ContainerStdio::close_container_ends() {
  for (auto& fd : theirs_) fd.reset();
}

void ContainerStdio::relay(int input, int exited, const OutputSink& sink, RelayGuest* guest) {
  ::signal(SIGPIPE, SIG_IGN);
  std::string pending;  // read from `input`, not yet taken by the container
  bool input_open = input >= 0 && stdin_.valid();
  if (!input_open) stdin_.reset();  // nothing will come: the container reads EOF
  std::string buf(kChunk, '\0');
  std::vector<pollfd> fds;
  while (stdout_.valid() || stderr_.valid() || stdin_.valid()) {
    fds = {{stdout_.get(), POLLIN, 0},
           {stderr_.get(), POLLIN, 0},
           {input_open && pending.empty() ? input : -1, POLLIN, 0},
           {!pending.empty() ? stdin_.get() : -1, POLLOUT, 0},
           {exited, POLLIN, 0}};
    if (guest) guest->prepare(fds);
    if (!base::sys::poll(fds, -1)) return;
    if (guest) guest->service(std::span<const pollfd>(fds).subspan(5));
    if (fds[0].revents) drain(stdout_, 1, sink, buf.data(), kReadsPerTurn);
    if (fds[1].revents) drain(stderr_, 2, sink, buf.data(), kReadsPerTurn);
    if (fds[2].revents) {
      auto n = base::sys::read(input, buf.data(), buf.size());
      if (n && *n > 0) {
        pending.assign(buf.data(), *n);
      } else if (!n && n.error().code() == EAGAIN) {
      } else {  // end of our input (or EIO from a hung-up terminal): its stdin ends too
        input_open = false;
        stdin_.reset();
      }
    }
    if (fds[3].revents) {
      auto n = base::sys::write(stdin_.get(), pending.data(), pending.size());
      if (n) {
        pending.erase(0, *n);
      } else if (n.error().code() != EAGAIN) {  // it closed its stdin: the rest is for nobody
        pending.clear();
        input_open = false;
        stdin_.reset();
      }
    }
    if (fds[4].revents) {  // it is gone: what it wrote is in the pipes now
      if (stdout_.valid()) drain(stdout_, 1, sink, buf.data(), kFinalReads);
      if (stderr_.valid()) drain(stderr_, 2, sink, buf.data(), kFinalReads);
      return;
    }
  }
}

}  // namespace berth
