#include "base/text_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

#include "base/sys.h"

namespace base {
namespace {

// Reads `fd` to its end; more than `max_bytes` is an error naming `what`.
Result<std::string> read_all_capped(int fd, size_t max_bytes, std::string_view what) {
  std::string out;
  char buf[8192];
  for (;;) {
    size_t n = TRY(sys::read(fd, buf, sizeof buf, what));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > max_bytes)
      return fail(Error::coded(EFBIG, fmt::format("{} is larger than {} bytes", what, max_bytes)));
  }
  return out;
}

}  // namespace

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

Result<std::string> read_text_capped(const std::string& path, size_t max_bytes) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY | O_NOCTTY));
  return read_all_capped(fd.get(), max_bytes, path);
}

Result<std::string> read_regular_beneath(int root_fd, const std::string& path, size_t max_bytes,
                                         std::string_view what) {
  // O_PATH first: a device or FIFO is looked at, never opened.
  UniqueFd entry =
      TRY(sys::openat2(root_fd, path, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, what));
  struct stat st = TRY(sys::fstat(entry.get(), what));
  if (!S_ISREG(st.st_mode))
    return fail(Error::coded(EINVAL, std::string(what) + " is not a regular file"));
  UniqueFd fd = TRY(sys::open(fmt::format("/proc/self/fd/{}", entry.get()), O_RDONLY | O_NOCTTY));
  return read_all_capped(fd.get(), max_bytes, what);
}

Status write_text(const std::string& path, std::string_view text) {
  UniqueFd fd = TRY(sys::open(path, O_WRONLY));
  TRY_STATUS(sys::write(fd.get(), text.data(), text.size(), path + " = " + std::string(text)));
  return {};
}

Status replace_file(const std::string& path, std::string_view text) {
  // A name of its own per writer: two processes replacing one file never share a temporary.
  static std::atomic<unsigned> serial{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  UniqueFd fd = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  TRY_STATUS(sys::write_all(fd.get(), text.data(), text.size(), tmp));
  fd.reset();
  if (auto renamed = sys::renameat(AT_FDCWD, tmp, AT_FDCWD, path, path); !renamed) {
    ::unlink(tmp.c_str());
    return renamed;
  }
  return {};
}

}  // namespace base
