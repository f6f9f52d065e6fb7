#include "berth/image/libarchive_calls.h"

namespace berth {

const LibArchive& libarchive() {
  static const LibArchive table = base::load_calls<LibArchive>(
      "libarchive.so.13", "libarchive13", [](base::LazyLibrary& lib, LibArchive& t) {
        return BERTH_LIBARCHIVE_CALLS(BASE_LAZY_BIND) true;
      });
  return table;
}

}  // namespace berth
