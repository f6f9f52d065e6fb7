// A container's standard streams without a terminal, as docker and podman make
// them: pipes of the engine's own, relayed to and from the caller. Nothing of
// the caller's terminal or files reaches the container, so it can neither push
// input into the caller's terminal (TIOCSTI) nor chmod, chown or truncate the
// caller's files through /proc/self/fd.
// Thread-safety: one thread per object. relay() ignores SIGPIPE process-wide
// (a reader that went away is an error value); oci restores the default for
// the container's own program.
#pragma once

#include <poll.h>

#include <array>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

// Descriptors a relay loop polls beside its own: the attach clients
// (attach_point.h). prepare() appends entries before each poll; service()
// gets those same entries back with their revents. Neither may block.
class RelayGuest {
 public:
  virtual void prepare(std::vector<pollfd>& fds) = 0;
  virtual void service(std::span<const pollfd> fds) = 0;

 protected:
  ~RelayGuest() = default;
};

class ContainerStdio {
 public:
  // Receives the container's output: `stream` 1 (stdout) or 2 (stderr).
  // Returns false once nobody reads that stream any more (EPIPE): the pipe
  // is then closed, so the container meets EPIPE too, as `yes | head` does.
  using OutputSink = std::function<bool(int stream, const char* data, size_t n)>;

  // With `open_stdin` (-i) the container's stdin is a pipe we write to;
  // without, it reads /dev/null.
  static base::Result<ContainerStdio> make(bool open_stdin);

  // The container's ends, for oci's CreateOptions/ExecOptions `stdio`.
  std::array<int, 3> container_ends() const;
  // Once the container holds its copies: drops ours, so that its exit ends the relay.
  void close_container_ends();

  // Relays until `exited` (a pidfd; -1: none) is readable and what is left
  // has been read, or until nothing is left to relay: the container's stdout
  // and stderr closed and its stdin closed or fed to the end. `input` (-1:
  // none) is copied into the container's stdin; its end closes the
  // container's stdin. Output goes to `sink` as it arrives. `guest` (may be
  // null) is served in the same loop.
  void relay(int input, int exited, const OutputSink& sink, RelayGuest* guest = nullptr);

 private:
  ContainerStdio() = default;
  std::array<base::UniqueFd, 3> theirs_;
  base::UniqueFd stdin_;   // we write: the container reads (invalid without -i)
  base::UniqueFd stdout_;  // we read
  base::UniqueFd stderr_;  // we read
};

}  // namespace berth
