// A file written under a temporary name beside its final one and renamed
// into place only when whole: a failed or killed write never leaves a
// partial file under the final name. The guard deletes the temporary file
// unless commit() renamed it.
// Thread-safety: one owner.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace base {

class PendingFile {
 public:
  // Creates "<path>.part-<16 hex>" (O_EXCL, `mode`), open for writing.
  static Result<PendingFile> create(const std::string& path, mode_t mode = 0644);
  PendingFile(PendingFile&& other) noexcept;
  PendingFile& operator=(PendingFile&&) = delete;
  ~PendingFile();

  int fd() const { return fd_.get(); }
  // Closes the file and renames it to its final name.
  Status commit();

 private:
  PendingFile(std::string path, std::string temp, UniqueFd fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  std::string path_, temp_;  // temp_ empty: committed or moved from
  UniqueFd fd_;
};

}  // namespace base
