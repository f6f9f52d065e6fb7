#include "berth/image/tar_unpack.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "berth/image/libarchive_calls.h"
#include "oci/wait_forwarding.h"

namespace berth {
namespace {

const LibArchive& la() {
  return libarchive();
}

// Rejects absolute names and ".." components; returns the cleaned relative
// path. `unit` ("layer", "archive") names what it would climb out of.
base::Result<std::string> clean_entry_path(const char* name, const char* unit) {
  std::string p = name ? name : "";
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  if (p.empty() || p == ".") return std::string();
  if (p.front() == '/') return base::fail_msg(fmt::format("entry '{}' has an absolute path", p));
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (p.compare(start, end - start, "..") == 0)
      return base::fail_msg(fmt::format("entry '{}' climbs out of the {}", p, unit));
    start = end + 1;
  }
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

const char* unit_of(const TarUnpackOptions& o) {
  return o.whiteouts ? "layer" : "archive";
}

// Copies the data of the current entry into `fd` (sparse entries keep their holes).
base::Status copy_data(archive* tar, int fd, const std::string& rel) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  int rc;
  while ((rc = la().archive_read_data_block(tar, &buf, &size, &offset)) == ARCHIVE_OK)
    TRY_STATUS(base::sys::pwrite_all(fd, buf, size, offset, rel));
  if (rc != ARCHIVE_EOF) return base::fail_msg(la().archive_error_string(tar));
  return {};
}

std::string under(const std::string& prefix, const std::string& rel) {
  return prefix.empty() ? rel : fmt::format("{}/{}", prefix, rel);
}

// Writes one entry (`rel`: its cleaned name) through the writer.
base::Status write_entry(archive* tar, archive_entry* e, const std::string& rel,
                         const TarUnpackOptions& o, LayerWriter& out) {
  auto slash = rel.rfind('/');
  if (o.whiteouts && rel.compare(slash == std::string::npos ? 0 : slash + 1, 4, ".wh.") == 0)
    return out.whiteout(rel);
  // Not a layer: no component may read as a whiteout once the files are
  // packed into one (a directory ".wh.passwd" too).
  if (!o.whiteouts && (rel.rfind(".wh.", 0) == 0 || rel.find("/.wh.") != std::string::npos))
    return base::fail_msg("a name starting with .wh. would read as a whiteout in a layer");
  std::string path = under(o.prefix, rel);
  EntryMeta m;
  m.mode = la().archive_entry_perm(e);
  m.uid = static_cast<uid_t>(la().archive_entry_uid(e));
  m.gid = static_cast<gid_t>(la().archive_entry_gid(e));
  if (o.owner) {  // a file that changes hands keeps no setuid or setgid bit
    m.uid = o.owner->first;
    m.gid = o.owner->second;
    m.mode &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
  }
  m.mtime_sec = la().archive_entry_mtime(e);
  m.mtime_nsec = la().archive_entry_mtime_nsec(e);
  if (const char* link = la().archive_entry_hardlink(e))
    return out.hardlink(path, under(o.prefix, TRY(clean_entry_path(link, unit_of(o)))));
  switch (la().archive_entry_filetype(e)) {
    case AE_IFDIR:
      return out.directory(path, m);
    case AE_IFLNK: {
      const char* target = la().archive_entry_symlink(e);
      return out.symlink(path, target ? target : "", m);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return out.special(path, la().archive_entry_filetype(e), la().archive_entry_rdev(e), m);
    case AE_IFREG: {
      base::UniqueFd fd = TRY(out.file(path, m));
      TRY_STATUS(copy_data(tar, fd.get(), path));
      // Extended attributes (file capabilities, for one) travel with the file.
      LayerWriter::Xattrs xattrs;
      la().archive_entry_xattr_reset(e);
      const char* name;
      const void* value;
      size_t size;
      while (la().archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
        xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
      return out.finish_file(std::move(fd), m, static_cast<uint64_t>(la().archive_entry_size(e)),
                             xattrs);
    }
    default:
      return {};  // sockets and unknown kinds: nothing an image needs
  }
}

// A reader of tar formats, with every decompression filter or none; not yet opened.
ArchiveReader tar_reader(bool decompress) {
  ArchiveReader tar(la().archive_read_new());
  // Docker's own list: gzip, bzip2, xz (and zstd, as BuildKit reads it);
  // libarchive's others (compress, lz4, lzop, ...) are left alone, and some
  // of them would run an outside program.
  if (decompress) {
    la().archive_read_support_filter_gzip(tar.get());
    la().archive_read_support_filter_bzip2(tar.get());
    la().archive_read_support_filter_xz(tar.get());
    la().archive_read_support_filter_zstd(tar.get());
  }
  la().archive_read_support_format_tar(tar.get());
  la().archive_read_support_format_gnutar(tar.get());
  return tar;
}

}  // namespace

base::Status unpack_tar(int fd, LayerWriter& out, const TarUnpackOptions& o,
                        const std::string& what) {
  if (!la().error.empty()) return base::fail_msg(la().error);
  ArchiveReader tar = tar_reader(o.decompress);
  if (la().archive_read_open_fd(tar.get(), fd, 1 << 20) != ARCHIVE_OK)
    return base::fail_msg(fmt::format("{}: {}", what, la().archive_error_string(tar.get())));
  archive_entry* e = nullptr;
  for (;;) {
    int rc = la().archive_read_next_header(tar.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return base::fail_msg(fmt::format("{}: {}", what, la().archive_error_string(tar.get())));
    // An archive may hold millions of entries: a build's Ctrl-C stops it
    // here (oci::InterruptsKill; never set outside a build).
    if (oci::interrupt_signal() != 0) return base::fail_msg(fmt::format("{}: interrupted", what));
    auto rel = clean_entry_path(la().archive_entry_pathname(e), unit_of(o));
    if (!rel) return base::fail(std::move(rel).error().context(what));
    if (rel->empty()) continue;
    if (auto s = write_entry(tar.get(), e, *rel, o, out); !s)
      return base::fail(std::move(s).error().context(fmt::format("{}: entry '{}'", what, *rel)));
  }
  return out.finish();
}

bool is_tar_archive(int fd) {
  if (!la().error.empty()) return false;
  ArchiveReader tar = tar_reader(true);
  if (la().archive_read_open_fd(tar.get(), fd, 1 << 16) != ARCHIVE_OK) return false;
  // An empty stream, or end-of-archive blocks alone, is no archive to
  // unpack (docker copies such a file as it is).
  archive_entry* e = nullptr;
  return la().archive_read_next_header(tar.get(), &e) >= ARCHIVE_WARN;
}

}  // namespace berth
