#include "oci/sync_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "base/sys.h"

namespace oci {

base::Status send_message(int fd, const std::string& kind, const std::string& body) {
  std::string msg = kind + "\n" + body;
  TRY_STATUS(base::sys::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL, "sync socket"));
  return {};
}

base::Result<std::pair<std::string, std::string>> receive_message(int fd) {
  std::vector<char> buf(1 << 16);
  auto received = base::sys::recv(fd, buf.data(), buf.size(), 0);
  if (!received)
    return base::fail(base::Error::sys(received.error().code(), "recv", "sync socket"));
  size_t n = *received;
  if (n == 0) return base::fail(base::Error::coded(EPIPE, "the container's init process exited"));
  std::string msg(buf.data(), n);
  auto nl = msg.find('\n');
  if (nl == std::string::npos) return std::pair{msg, std::string()};
  return std::pair{msg.substr(0, nl), msg.substr(nl + 1)};
}

}  // namespace oci
