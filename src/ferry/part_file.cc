#include "ferry/part_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/chunk_hash.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace sys = base::sys;

std::string part_name_for(const std::string& leaf) {
  std::string name = "." + leaf + ".ferry-part";
  if (name.size() <= kMaxNameBytes) return name;
  return fmt::format(".ferry-part-{:016x}", chunk_hash(leaf.data(), leaf.size()));
}

base::Result<base::UniqueFd> open_part_file(const base::UniqueFd& dir, const std::string& name,
                                            const std::string& shown) {
  auto fd =
      TRY(sys::openat(dir.get(), name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0600, shown));
  struct stat st = TRY(sys::fstat(fd.get(), shown));
  if (S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == ::geteuid()) return fd;
  base::log::warn(
      "{}: the part file {} is not a plain file of ours ({} links, owner {}); "
      "replacing it",
      shown, name, st.st_nlink, st.st_uid);
  fd.reset();
  TRY_STATUS(sys::unlinkat(dir.get(), name, 0, shown));
  return sys::openat(dir.get(), name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, shown);
}
}  // namespace ferry
