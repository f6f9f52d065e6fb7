// The monitor's end of `berth attach`: a unix socket, <dir>/attach.sock,
// that attach clients (container_attach.h) connect to while the container
// runs, speaking attach_frames.h.
//  - Only a peer of the monitor's own user is served (SO_PEERCRED); the
//    socket file is mode 0600. At most 16 clients at once.
//  - Output goes to every client through a queue of its own, written as
//    the client takes it: a client that stops reading never slows the
//    container; once 8 MiB wait for it, it is dropped.
//  - With `take_input` (a container with -i whose monitor is not attached
//    to a berth run), clients' kStdin bytes go to the container's stdin
//    through input_fd(), which stays open for the monitor's life: a client
//    that ends its input leaves the container's stdin open, as docker's
//    attach does (StdinOnce false). At most 1 MiB waits for the container.
//  - kWindow resizes the terminal given to set_terminal().
//  - A broken peer (a frame too long, an unknown kind) is dropped.
// The socket file is removed when the AttachPoint goes, through the
// directory's descriptor (the directory may have been renamed).
// Thread-safety: one thread (the monitor's relay loop).
#pragma once

#include <poll.h>

#include <list>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "berth/container/attach_frames.h"
#include "berth/container/container_stdio.h"

namespace berth {

// The socket's name in the container's directory.
inline constexpr const char* kAttachSocket = "attach.sock";

class AttachPoint final : public RelayGuest {
 public:
  static base::Result<AttachPoint> listen(const std::string& dir, bool take_input);
  AttachPoint(AttachPoint&&) = default;
  AttachPoint& operator=(AttachPoint&&) = default;
  ~AttachPoint();

  void prepare(std::vector<pollfd>& fds) override;
  void service(std::span<const pollfd> fds) override;

  // The container's output, queued for every client.
  void broadcast(attach::Kind stream, const char* data, size_t n);
  // The read end the container's stdin is fed from (-1 without take_input).
  int input_fd() const { return input_read_.get(); }
  // The pty master kWindow frames resize (-1: none).
  void set_terminal(int master) { terminal_ = master; }
  // The end of a life: every client gets kExit with `status` and what is
  // queued for it (waiting at most `wait_ms` for slow readers), then is closed.
  void end_life(int status, int wait_ms = 2000);

 private:
  struct Client {
    base::UniqueFd fd;
    attach::Decoder in;
    std::string out;  // frames not yet written
  };
  AttachPoint() = default;
  void accept_client();
  // Reads what `c` sent; false when it is gone or broken.
  bool read_from(Client& c);
  // Writes what is queued for `c`; false when it is gone.
  static bool flush(Client& c);
  void feed_input();

  base::UniqueFd dir_fd_;
  base::UniqueFd listener_;
  std::list<Client> clients_;
  std::vector<Client*> polled_;  // the clients prepare() listed, in order
  bool take_input_ = false;
  base::UniqueFd input_read_, input_write_;
  std::string input_;  // from clients, not yet taken by the container
  int terminal_ = -1;
};

}  // namespace berth
