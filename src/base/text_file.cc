#include "base/text_file.h"

#include <unistd.h>

#include <atomic>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/sys.h"

namespace base {

Result<std::string> read_text(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY));
  std::string out;
  char buf[8192];
  for (;;) {
    size_t n = TRY(sys::read(fd.get(), buf, sizeof buf, path));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Status write_text(const std::string& path, std::string_view text) {
  UniqueFd fd = TRY(sys::open(path, O_WRONLY));
  ssize_t n;
  do n = ::write(fd.get(), text.data(), text.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Error::sys(errno, "write", path + " = " + std::string(text)));
  return {};
}

Status replace_file(const std::string& path, std::string_view text) {
  // A name of its own per writer: two processes replacing one file never share a temporary.
  static std::atomic<unsigned> serial{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  UniqueFd fd = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  TRY_STATUS(sys::write_all(fd.get(), text.data(), text.size(), tmp));
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(Error::sys(err, "rename", path));
  }
  return {};
}

}  // namespace base
