// libarchive, loaded on first use (base/lazy_library.h): only import, pull,
// load and save read or write archives, and linked in, libarchive and what it pulls
// in (libxml2, ICU) add ~10 ms to every berth command. Calls go through
// libarchive(): libarchive().archive_read_new(), ...; its `error` says why the
// library could not be loaded. ArchiveReader/ArchiveWriter free their handle.
// Thread-safety: the table is built once; libarchive handles are per thread.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

#include "base/lazy_library.h"

namespace berth {

// clang-format off
#define BERTH_LIBARCHIVE_CALLS(X)                                                          \
  X(archive_error_string)                                                                  \
  X(archive_entry_new) X(archive_entry_free) X(archive_entry_pathname)                     \
  X(archive_entry_set_pathname) X(archive_entry_hardlink)                                  \
  X(archive_entry_size) X(archive_entry_set_size) X(archive_entry_set_filetype)            \
  X(archive_entry_set_perm) X(archive_entry_set_mtime) X(archive_entry_filetype)           \
  X(archive_read_new) X(archive_read_free) X(archive_read_open_fd)                         \
  X(archive_read_next_header) X(archive_read_data_block) X(archive_read_data)              \
  X(archive_read_support_filter_all) X(archive_read_support_filter_gzip)                   \
  X(archive_read_support_filter_bzip2) X(archive_read_support_filter_xz)                   \
  X(archive_read_support_filter_zstd)                                                      \
  X(archive_read_support_format_tar) X(archive_read_support_format_gnutar)                 \
  X(archive_write_new) X(archive_write_free) X(archive_write_close) X(archive_write_header)\
  X(archive_write_data)                                                                    \
  X(archive_write_set_format_pax_restricted) X(archive_write_open_fd)                      \
  X(archive_entry_perm) X(archive_entry_uid) X(archive_entry_gid) X(archive_entry_mtime)   \
  X(archive_entry_mtime_nsec) X(archive_entry_symlink) X(archive_entry_rdev)               \
  X(archive_entry_xattr_reset) X(archive_entry_xattr_next)                                 \
  X(archive_write_open) X(archive_entry_set_uid) X(archive_entry_set_gid)                  \
  X(archive_entry_set_symlink) X(archive_entry_set_hardlink) X(archive_entry_set_rdev)     \
  X(archive_entry_xattr_add_entry) X(archive_entry_clear) X(archive_write_set_options)
// clang-format on

struct LibArchive {
  BERTH_LIBARCHIVE_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};

const LibArchive& libarchive();

struct ArchiveReadFree {
  void operator()(archive* a) const { libarchive().archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { libarchive().archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;

}  // namespace berth
