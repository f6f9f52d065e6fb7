#include "berth/container/container_logs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/sys.h"

namespace berth {
namespace {

constexpr size_t kBlock = size_t{64} * 1024;

base::Result<base::UniqueFd> open_log(const Paths& p, const std::string& id_or_name) {
  ContainerRecord rec = TRY(find_container(p.root, id_or_name));
  auto fd = base::sys::open(container_dir(p.root, rec.id) + "/log", O_RDONLY);
  if (!fd && fd.error().code() == ENOENT) return base::UniqueFd();  // nothing logged yet
  return fd;
}

}  // namespace

base::Result<std::vector<LogLine>> read_logs(const Paths& p, const std::string& id_or_name,
                                             uint64_t* offset, size_t max_bytes) {
  base::UniqueFd fd = TRY(open_log(p, id_or_name));
  std::vector<LogLine> out;
  if (!fd) return out;
  std::string text;
  std::vector<char> buf(kBlock);
  uint64_t at = *offset;
  size_t used = 0;  // bytes of `text` consumed as whole lines
  for (;;) {
    size_t n = TRY(base::sys::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(at)));
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
  *offset += used;  // a line still being written stays for the next read
  return out;
}

base::Result<uint64_t> log_tail_offset(const Paths& p, const std::string& id_or_name,
                                       uint64_t lines) {
  base::UniqueFd fd = TRY(open_log(p, id_or_name));
  if (!fd) return uint64_t{0};
  auto st = TRY(base::sys::fstat(fd.get()));
  uint64_t end = static_cast<uint64_t>(st.st_size);
  std::vector<char> buf(kBlock);
  // The k-th newline from the end (a partial last line has none) starts the
  // last k - 1 complete lines.
  uint64_t seen = 0;
  for (uint64_t pos = end; pos > 0;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(pos, kBlock));
    pos -= len;
    size_t n = TRY(base::sys::pread(fd.get(), buf.data(), len, static_cast<off_t>(pos)));
    for (size_t i = n; i-- > 0;)
      if (buf[i] == '\n' && ++seen == lines + 1) return pos + i + 1;
  }
  return uint64_t{0};
}

}  // namespace berth
