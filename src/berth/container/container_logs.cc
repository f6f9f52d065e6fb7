#include "berth/container/container_logs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/sys.h"
#include "berth/container/log_files.h"

namespace berth {
namespace {

constexpr size_t kBlock = size_t{64} * 1024;

// The offset in `fd` (of `size` bytes) at which its last `*lines` complete
// lines start, found by reading backwards; -1 when it has fewer, and
// `*lines` is then lowered by the lines it has.
base::Result<int64_t> tail_offset(int fd, uint64_t size, uint64_t* lines) {
  std::vector<char> buf(kBlock);
  // The k-th newline from the end (a partial last line has none) starts the
  // last k - 1 complete lines.
  uint64_t seen = 0;
  for (uint64_t pos = size; pos > 0;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(pos, kBlock));
    pos -= len;
    size_t n = TRY(base::sys::pread(fd, buf.data(), len, static_cast<off_t>(pos)));
    for (size_t i = n; i-- > 0;)
      if (buf[i] == '\n' && ++seen == *lines + 1) return static_cast<int64_t>(pos + i + 1);
  }
  if (seen == *lines) return 0;  // exactly as many: from its start
  *lines -= seen;
  return -1;
}

}  // namespace

base::Result<bool> LogReader::add(int n, bool at_front) {
  auto fd = base::sys::open(log_file(dir_, n), O_RDONLY);
  if (!fd && fd.error().code() == ENOENT) return false;
  if (!fd) return base::fail(std::move(fd).error());
  auto st = TRY(base::sys::fstat(fd->get()));
  // A rotation between two opens can show one file under two names.
  for (const auto& have : sources_)
    if (have.dev == st.st_dev && have.ino == st.st_ino) return true;
  Source s{std::move(*fd), st.st_dev, st.st_ino, 0};
  if (at_front)
    sources_.push_front(std::move(s));
  else
    sources_.push_back(std::move(s));
  return true;
}

base::Result<LogReader> LogReader::open(const Paths& p, const std::string& id_or_name,
                                        int64_t tail) {
  ContainerRecord rec = TRY(find_container(p.root, id_or_name));
  LogReader r(container_dir(p.root, rec.id));
  // Newest first, each put before the ones read after it.
  for (int n = 0; n < kMostLogFiles; ++n)
    if (!TRY(r.add(n, true)) && n > 0) break;
  if (tail < 0) return r;
  auto wanted = static_cast<uint64_t>(tail);
  for (auto it = r.sources_.rbegin(); it != r.sources_.rend(); ++it) {
    auto st = TRY(base::sys::fstat(it->fd.get()));
    int64_t at = TRY(tail_offset(it->fd.get(), static_cast<uint64_t>(st.st_size), &wanted));
    if (at >= 0) {
      it->offset = static_cast<uint64_t>(at);
      r.sources_.erase(r.sources_.begin(), std::next(it).base());
      return r;
    }
  }
  return r;  // fewer lines than asked for: all of them
}

base::Result<bool> LogReader::follow_rotation() {
  if (sources_.empty()) return TRY(add(0, false));  // the monitor had not written yet
  const Source& last = sources_.front();
  auto now = base::sys::fstatat(AT_FDCWD, log_file(dir_, 0), 0);
  if (!now || (now->st_dev == last.dev && now->st_ino == last.ino)) return false;
  // Rotated: it is log.K now (or deleted); log.K-1 ... log are newer.
  int newer_than = kMostLogFiles;
  for (int n = 1; n < kMostLogFiles; ++n) {
    auto st = base::sys::fstatat(AT_FDCWD, log_file(dir_, n), 0);
    if (!st) {
      newer_than = n;  // not among them: every file there is newer
      break;
    }
    if (st->st_dev == last.dev && st->st_ino == last.ino) {
      newer_than = n;
      break;
    }
  }
  // It stays first: lines written to it just before the rename are read
  // before the files after it (next() moves on at its end).
  for (int n = newer_than - 1; n >= 0; --n) (void)TRY(add(n, false));
  return sources_.size() > 1;
}

base::Result<std::vector<LogLine>> LogReader::next(size_t max_bytes) {
  std::vector<LogLine> out;
  std::vector<char> buf(kBlock);
  if (sources_.empty() && !TRY(follow_rotation())) return out;
  while (!sources_.empty()) {
    Source& s = sources_.front();
    std::string text;
    uint64_t at = s.offset;
    size_t used = 0;  // bytes of `text` consumed as whole lines
    for (;;) {
      size_t n = TRY(base::sys::pread(s.fd.get(), buf.data(), buf.size(), static_cast<off_t>(at)));
      if (n == 0) break;
      text.append(buf.data(), n);
      at += n;
      for (size_t nl; (nl = text.find('\n', used)) != std::string::npos; used = nl + 1) {
        auto j = nlohmann::json::parse(text.substr(used, nl - used), nullptr, false);
        if (j.is_object())
          out.push_back({j.value("stream", "stdout"), j.value("time", ""), j.value("log", "")});
      }
      if (used >= max_bytes) break;
    }
    s.offset += used;  // a line still being written stays for the next read
    if (!out.empty()) return out;
    if (used > 0) continue;     // only lines that were not JSON: read on
    if (sources_.size() > 1) {  // a rotated file, read to its end
      sources_.pop_front();
      continue;
    }
    if (!TRY(follow_rotation())) return out;
  }
  return out;
}

}  // namespace berth
