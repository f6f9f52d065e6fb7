#include "base/pending_file.h"

#include <fcntl.h>

#include "base/sys.h"

namespace base {

Result<PendingFile> PendingFile::create(const std::string& path, mode_t mode) {
  std::string temp = path + ".part-" + TRY(sys::random_hex(8));
  UniqueFd fd = TRY(sys::open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  return PendingFile(path, std::move(temp), std::move(fd));
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), fd_(std::move(other.fd_)) {
  other.temp_.clear();
}

PendingFile::~PendingFile() {
  if (!temp_.empty()) (void)sys::unlinkat(AT_FDCWD, temp_, 0);
}

Status PendingFile::commit() {
  fd_.reset();
  TRY_STATUS(sys::renameat(AT_FDCWD, temp_, AT_FDCWD, path_));
  temp_.clear();
  return {};
}

}  // namespace base
