#include "oci/sync_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <memory>

#include "base/sys.h"

namespace oci {

base::Status send_message(int fd, const std::string& kind, const std::string& body) {
  std::string msg = kind + "\n" + body;
  TRY_STATUS(base::sys::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL, "sync socket"));
  return {};
}

base::Result<std::pair<std::string, std::string>> receive_message(int fd) {
  // Not zero-filled: a message is a few hundred bytes, and filling 64 KiB
  // first touched 16 fresh pages in each process that waits for one.
  constexpr size_t kMost = size_t{1} << 16;
  std::unique_ptr<char[]> buf(new char[kMost]);
  auto received = base::sys::recv(fd, buf.get(), kMost, 0);
  if (!received)
    return base::fail(base::Error::sys(received.error().code(), "recv", "sync socket"));
  size_t n = *received;
  if (n == 0) return base::fail(base::Error::coded(EPIPE, "the container's init process exited"));
  std::string msg(buf.get(), n);
  auto nl = msg.find('\n');
  if (nl == std::string::npos) return std::pair{msg, std::string()};
  return std::pair{msg.substr(0, nl), msg.substr(nl + 1)};
}

}  // namespace oci
