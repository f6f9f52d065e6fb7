#include "berth/image/compression_libraries.h"

namespace berth {

const Isal& isal() {
  static const Isal t = base::load_calls<Isal>(
      "libisal.so.2", "libisal2",
      [](base::LazyLibrary& lib, Isal& t) { return BERTH_ISAL_CALLS(BASE_LAZY_BIND) true; });
  return t;
}

const Zstd& zstd() {
  static const Zstd t = base::load_calls<Zstd>(
      "libzstd.so.1", "libzstd1",
      [](base::LazyLibrary& lib, Zstd& t) { return BERTH_ZSTD_CALLS(BASE_LAZY_BIND) true; });
  return t;
}

}  // namespace berth
