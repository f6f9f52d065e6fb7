#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "base/sys.h"

namespace base {
namespace {

// The files whose LifeLock this process holds, as (device, inode): opening
// one of them again, even to look, would drop the lock.
std::mutex held_mutex;
std::set<std::pair<dev_t, ino_t>> held_here;

std::pair<dev_t, ino_t> identity_of(const struct stat& st) {
  return {st.st_dev, st.st_ino};
}

// Whether `path` names a file this process holds a LifeLock on.
bool held_by_us(const std::string& path) {
  auto st = sys::fstatat(AT_FDCWD, path, 0, path);
  if (!st) return false;
  std::lock_guard<std::mutex> guard(held_mutex);
  return held_here.count(identity_of(*st)) != 0;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
  TRY_STATUS(sys::flock_wait(fd.get(), path));
  return FileLock(std::move(fd));
}

bool FileLock::still_at(const std::string& path) const {
  auto held = sys::fstat(fd_.get(), path);
  auto named = sys::fstatat(AT_FDCWD, path, 0, path);
  return held && named && held->st_dev == named->st_dev && held->st_ino == named->st_ino;
}

Result<LifeLock> LifeLock::take(const std::string& path, std::string_view what) {
  UniqueFd fd = TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
  // A read lock is a waiter (wait_released) looking for a moment: it goes
  // at once, so it is waited out; a write lock is a live holder.
  for (int attempt = 0; !TRY(sys::record_lock(fd.get(), F_WRLCK, false, path)); ++attempt) {
    auto holder = TRY(sys::record_lock_holder(fd.get(), path));
    if (holder && (holder->type == F_WRLCK || attempt >= 1000))
      return fail_msg(fmt::format("{} is held by process {}", what,
                                  holder->pid > 0 ? std::to_string(holder->pid) : "(elsewhere)"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto st = TRY(sys::fstat(fd.get(), path));
  std::lock_guard<std::mutex> guard(held_mutex);
  held_here.insert(identity_of(st));
  return LifeLock(std::move(fd));
}

LifeLock::LifeLock(LifeLock&& other) noexcept : fd_(std::move(other.fd_)) {}

LifeLock::~LifeLock() {
  if (!fd_) return;
  if (auto st = sys::fstat(fd_.get())) {
    std::lock_guard<std::mutex> guard(held_mutex);
    held_here.erase(identity_of(*st));
  }
}

bool LifeLock::held(const std::string& path) {
  if (held_by_us(path)) return true;
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) return false;
  auto holder = sys::record_lock_holder(fd->get(), path);
  return holder && *holder && (*holder)->type == F_WRLCK;
}

Status LifeLock::wait_released(const std::string& path) {
  if (held_by_us(path))
    return fail_msg(fmt::format("{}: this process holds it and would wait on itself", path));
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) return {};  // no file: nobody holds it
  if (!TRY(sys::record_lock(fd->get(), F_RDLCK, true, path)))
    return fail_msg(fmt::format("{}: not released", path));
  return {};
}

}  // namespace base
