// gen-tree: makes test and benchmark inputs quickly and reproducibly.
//   gen-tree file PATH SIZE [--seed N]     one file of pseudo-random bytes
//   gen-tree tree DIR COUNT TOTAL [--seed N]
//     COUNT files of varied sizes adding up to about TOTAL, 100 per directory
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "base/units.h"

namespace {

struct Rng {
  uint64_t s;
  uint64_t next() {  // xorshift64*: fast, not cryptographic, plenty for test data
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

base::Status write_random(const std::string& path, uint64_t size, Rng& rng) {
  auto fd = TRY(base::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  std::vector<uint64_t> buf(1 << 17);
  uint64_t left = size;
  while (left > 0) {
    for (auto& w : buf) w = rng.next();
    size_t n = std::min<uint64_t>(left, buf.size() * 8);
    TRY_STATUS(base::sys::write_all(fd.get(), buf.data(), n, path));
    left -= n;
  }
  return {};
}

base::Status make_tree(const std::string& dir, uint64_t count, uint64_t total, Rng& rng) {
  ::mkdir(dir.c_str(), 0755);
  uint64_t mean = count ? total / count : 0;
  for (uint64_t i = 0; i < count; ++i) {
    std::string sub = fmt::format("{}/d{:04}", dir, i / 100);
    if (i % 100 == 0) ::mkdir(sub.c_str(), 0755);
    uint64_t size = mean ? rng.next() % (2 * mean + 1) : 0;  // uniform, averaging `mean`
    TRY_STATUS(write_random(fmt::format("{}/f{:06}", sub, i), size, rng));
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  base::log::set_program("gen-tree");
  std::vector<std::string> args(argv + 1, argv + argc);
  Rng rng{0x9e3779b97f4a7c15ull};
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--seed") {
      rng.s = std::stoull(args[i + 1]) | 1;
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      break;
    }
  base::Status st;
  if (args.size() == 3 && args[0] == "file") {
    auto size = base::units::parse_size(args[2]);
    if (!size) return base::log::error("bad size '{}'", args[2]), 2;
    st = write_random(args[1], *size, rng);
  } else if (args.size() == 4 && args[0] == "tree") {
    auto total = base::units::parse_size(args[3]);
    if (!total) return base::log::error("bad size '{}'", args[3]), 2;
    st = make_tree(args[1], std::stoull(args[2]), *total, rng);
  } else {
    base::log::error("usage: gen-tree file PATH SIZE | gen-tree tree DIR COUNT TOTAL [--seed N]");
    return 2;
  }
  if (!st) {
    base::log::error("{}", st.error().message());
    return 1;
  }
  return 0;
}
