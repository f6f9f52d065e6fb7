#include "oci/sync_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

namespace oci {

base::Status send_message(int fd, const std::string& kind, const std::string& body) {
  std::string msg = kind + "\n" + body;
  ssize_t n;
  do n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return base::fail(base::Error::sys(errno, "send", "sync socket"));
  return {};
}

base::Result<std::pair<std::string, std::string>> receive_message(int fd) {
  std::vector<char> buf(1 << 16);
  ssize_t n;
  do n = ::recv(fd, buf.data(), buf.size(), 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return base::fail(base::Error::sys(errno, "recv", "sync socket"));
  if (n == 0) return base::fail(base::Error::coded(EPIPE, "the container's init process exited"));
  std::string msg(buf.data(), static_cast<size_t>(n));
  auto nl = msg.find('\n');
  if (nl == std::string::npos) return std::pair{msg, std::string()};
  return std::pair{msg.substr(0, nl), msg.substr(nl + 1)};
}

}  // namespace oci
