// ISA-L (gzip) and libzstd, each loaded on first use (base/lazy_library.h):
// only commands that unpack or pack layers need them. Calls go through
// isal() and zstd(); a table's `error` says why its library could not be
// loaded (its calls are then null).
// Thread-safety: each table is built once.
#pragma once

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <string>

#include "base/lazy_library.h"

namespace berth {

// clang-format off
#define BERTH_ISAL_CALLS(X) \
  X(isal_inflate_init) X(isal_inflate_reset) X(isal_inflate) X(isal_deflate_init) X(isal_deflate)
#define BERTH_ZSTD_CALLS(X)                                                                \
  X(ZSTD_createDCtx) X(ZSTD_freeDCtx) X(ZSTD_decompressStream) X(ZSTD_isError)             \
  X(ZSTD_getErrorName) X(ZSTD_createCCtx) X(ZSTD_freeCCtx) X(ZSTD_CCtx_setParameter)       \
  X(ZSTD_compressStream2)
// clang-format on

struct Isal {
  BERTH_ISAL_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};
struct Zstd {
  BERTH_ZSTD_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};

const Isal& isal();
const Zstd& zstd();

}  // namespace berth
