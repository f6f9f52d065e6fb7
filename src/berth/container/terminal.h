// The monitor's side of `berth run -t`: a console socket the runtime sends
// the container's pty master to (SCM_RIGHTS, as conmon receives it), the
// user's terminal switched to raw mode while attached (restored on every
// exit path), and window sizes copied from the user's terminal to the pty.
// Thread-safety: process-wide terminal state; use from the monitor's thread.
#pragma once

#include <termios.h>

#include <functional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "berth/container/container_stdio.h"

namespace berth {

// A listening unix socket at `path` (replaced if present).
base::Result<base::UniqueFd> listen_console(const std::string& path);
// Accepts the runtime's connection and receives the pty master (waits at most 10 s).
base::Result<base::UniqueFd> receive_console_master(int listen_fd);
// Copies the window size of `from` (a terminal) to `to`; false when `from` is none.
bool copy_window_size(int from, int to);

// Relays a pty master until every holder of its other end is gone: `input`
// (-1: none) into it (in raw mode meanwhile, when it is a terminal), its
// output to `on_output`, and, with `follow_size`, our window size into it on
// every SIGWINCH; `guest` (may be null) is served in the same loop. Used by
// the monitor (run -t) and by exec -t.
void relay_terminal(int master, int input, bool follow_size,
                    const std::function<void(const char*, size_t)>& on_output,
                    RelayGuest* guest = nullptr);

// Raw mode on `fd` for its lifetime, when `fd` is a terminal.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

}  // namespace berth
