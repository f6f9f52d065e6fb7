#include "berth/build/copy_files.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "berth/build/text.h"

namespace berth::build {
namespace {
namespace sys = base::sys;

// A source or destination relative to its root: "./a//b/../c/" is "a/c",
// "/a" is "a", "" is the root; ".." that climbs above a relative path
// stays, to be refused, and is folded away above a rooted one.
std::string clean(std::string_view path) {
  std::string c = clean_path(path);
  if (c == "." || c == "/") return "";
  return c.front() == '/' ? c.substr(1) : c;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// Opens `rel` beneath (context) or in (an image root) the source root.
base::Result<base::UniqueFd> open_source(const SourceRoot& from, const std::string& rel, int flags,
                                         const std::string& shown) {
  uint64_t resolve = (from.context ? RESOLVE_BENEATH : RESOLVE_IN_ROOT) | RESOLVE_NO_MAGICLINKS;
  auto fd = sys::openat2(from.fd, rel.empty() ? "." : rel, flags, 0, resolve, shown);
  if (fd) return fd;
  if (fd.error().code() == EXDEV)
    return base::fail_msg(
        fmt::format("{}: leads outside {} (through a symlink)", shown, from.what));
  if (fd.error().code() == ENOENT)
    return base::fail_msg(fmt::format("{}: not found in {}", shown, from.what));
  return base::fail(std::move(fd).error());
}

bool ignored(const SourceRoot& from, const std::string& rel) {
  return from.context && from.ignore && !rel.empty() && from.ignore->excluded(rel);
}

// The directory `path` (absolute, in the root) with every missing parent
// made; new ones get mode 0755 and the copy's owner.
base::Result<base::UniqueFd> make_parents(int root, const std::string& path,
                                          const CopyRequest& req) {
  std::string rel = clean("/" + path);  // ".." above "/" is "/", as in the container
  std::string prefix;
  base::UniqueFd dir = TRY(sys::openat2(root, ".", O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT, path));
  size_t i = 0;
  while (i < rel.size()) {
    size_t slash = rel.find('/', i);
    std::string part = rel.substr(i, slash == std::string::npos ? std::string::npos : slash - i);
    prefix = join(prefix, part);
    auto next = sys::openat2(root, prefix, O_PATH | O_DIRECTORY, 0,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, "/" + prefix);
    if (!next && next.error().code() == ENOENT) {
      TRY_STATUS(sys::mkdirat(dir.get(), part, 0755, "/" + prefix));
      TRY_STATUS(sys::fchownat(dir.get(), part, req.uid.value_or(0), req.gid.value_or(0),
                               AT_SYMLINK_NOFOLLOW, "/" + prefix));
      TRY_STATUS(sys::fchmodat(dir.get(), part, 0755, "/" + prefix));
      next = sys::openat2(root, prefix, O_PATH | O_DIRECTORY, 0,
                          RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, "/" + prefix);
    }
    if (!next && next.error().code() == ENOTDIR)
      return base::fail_msg(fmt::format("/{} is not a directory in the image", prefix));
    dir = TRY(std::move(next));
    if (slash == std::string::npos) break;
    i = slash + 1;
  }
  return dir;
}

// The entry `name` in `dir` is cleared for a new one, unless it is a
// directory (a directory is merged into, never replaced by a file).
base::Status clear_entry(int dir, const std::string& name, bool new_is_dir,
                         const std::string& shown) {
  auto st = sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW, shown);
  if (!st) return {};
  if (S_ISDIR(st->st_mode)) {
    if (new_is_dir) return {};
    return base::fail_msg(fmt::format("cannot replace the directory {} with a file", shown));
  }
  return sys::unlinkat(dir, name, 0, shown);
}

struct Copier {
  const SourceRoot& from;
  const CopyRequest& req;

  base::Status owner_and_mode(int fd, mode_t mode, const struct stat& st,
                              const std::string& shown) {
    TRY_STATUS(sys::fchown(fd, req.uid.value_or(0), req.gid.value_or(0), shown));
    TRY_STATUS(sys::fchmod(fd, req.mode.value_or(mode & 07777), shown));
    struct timespec times[2] = {st.st_mtim, st.st_mtim};
    return sys::futimens(fd, times, shown);
  }

  base::Status file(int src, const std::string& dest_shown, int dest_dir, const std::string& name) {
    struct stat st = TRY(sys::fstat(src, dest_shown));
    TRY_STATUS(clear_entry(dest_dir, name, false, dest_shown));
    base::UniqueFd out = TRY(
        sys::openat(dest_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, dest_shown));
    for (;;) {
      size_t n = TRY(sys::sendfile(out.get(), src, nullptr, size_t{1} << 30, dest_shown));
      if (n == 0) break;
    }
    return owner_and_mode(out.get(), st.st_mode, st, dest_shown);
  }

  // Copies what the source directory `src` holds into `dest` (both open).
  base::Status directory(int src, const std::string& rel, int dest, const std::string& dest_shown) {
    for (const std::string& name : TRY(base::list_dir(src, rel.empty() ? "." : rel))) {
      std::string child = join(rel, name);
      std::string shown =
          fmt::format("{}{}{}", dest_shown, dest_shown.ends_with('/') ? "" : "/", name);
      struct stat st = TRY(sys::fstatat(src, name, AT_SYMLINK_NOFOLLOW, child));
      bool excluded = ignored(from, child);
      if (S_ISDIR(st.st_mode)) {
        if (excluded && from.ignore->can_skip_dir(child)) continue;
        TRY_STATUS(clear_entry(dest, name, true, shown));
        if (!sys::fstatat(dest, name, AT_SYMLINK_NOFOLLOW, shown))
          TRY_STATUS(sys::mkdirat(dest, name, 0700, shown));
        base::UniqueFd sub_src =
            TRY(sys::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, child));
        base::UniqueFd sub_dest =
            TRY(sys::openat(dest, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, shown));
        TRY_STATUS(directory(sub_src.get(), child, sub_dest.get(), shown));
        TRY_STATUS(owner_and_mode(sub_dest.get(), st.st_mode, st, shown));
        continue;
      }
      if (excluded) continue;
      if (S_ISREG(st.st_mode)) {
        base::UniqueFd in =
            TRY(sys::openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, child));
        TRY_STATUS(file(in.get(), shown, dest, name));
      } else if (S_ISLNK(st.st_mode)) {
        std::string target = TRY(sys::readlinkat(src, name, child));
        TRY_STATUS(clear_entry(dest, name, false, shown));
        TRY_STATUS(sys::symlinkat(target, dest, name, shown));
        TRY_STATUS(sys::fchownat(dest, name, req.uid.value_or(0), req.gid.value_or(0),
                                 AT_SYMLINK_NOFOLLOW, shown));
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        TRY_STATUS(sys::utimensat(dest, name, times, AT_SYMLINK_NOFOLLOW, shown));
      }
      // Devices, FIFOs and sockets in a context are not copied, as docker's
      // context never carries them.
    }
    return {};
  }
};

// One field of the inputs' digest, its length first: no name, symlink
// target or content can pass for the fields that follow it.
void add_field(base::Sha256& h, std::string_view value) {
  unsigned char length[8];
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(value.size() >> (8 * i));
  h.update(length, sizeof length);
  h.update(value.data(), value.size());
}

// A regular file's size, then exactly that many bytes of it: a file that
// grows or shrinks while it is read is an error, not a different digest.
base::Status add_content(base::Sha256& h, int fd, uint64_t size, const std::string& shown) {
  add_field(h, std::to_string(size));
  std::vector<char> buf(1 << 16);
  uint64_t seen = 0;
  for (;;) {
    size_t n = TRY(sys::read(fd, buf.data(), buf.size(), shown));
    if (n == 0) break;
    seen += n;
    if (seen > size) break;
    h.update(buf.data(), n);
  }
  if (seen != size) return base::fail_msg(fmt::format("{}: changed while it was read", shown));
  return {};
}

base::Status hash_tree(const SourceRoot& from, int dir, const std::string& rel, base::Sha256& h) {
  for (const std::string& name : TRY(base::list_dir(dir, rel.empty() ? "." : rel))) {
    std::string child = join(rel, name);
    struct stat st = TRY(sys::fstatat(dir, name, AT_SYMLINK_NOFOLLOW, child));
    bool excluded = ignored(from, child);
    if (S_ISDIR(st.st_mode) && excluded && from.ignore->can_skip_dir(child)) continue;
    if (!S_ISDIR(st.st_mode) && excluded) continue;
    add_field(h, child);
    add_field(h, fmt::format("{:o}", st.st_mode));
    if (S_ISDIR(st.st_mode)) {
      base::UniqueFd sub =
          TRY(sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, child));
      TRY_STATUS(hash_tree(from, sub.get(), child, h));
      add_field(h, "end of directory");
    } else if (S_ISREG(st.st_mode)) {
      base::UniqueFd in = TRY(sys::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, child));
      TRY_STATUS(add_content(h, in.get(), static_cast<uint64_t>(st.st_size), child));
    } else if (S_ISLNK(st.st_mode)) {
      add_field(h, TRY(sys::readlinkat(dir, name, child)));
    }
  }
  return {};
}

// One named source: opened (confined), refused unless a regular file or a
// directory, and for the context named by its resolved path.
base::Result<ResolvedSource> resolve_one(const SourceRoot& from, const std::string& rel,
                                         const std::string& shown) {
  base::UniqueFd fd = TRY(open_source(from, rel, O_PATH, shown));
  struct stat st = TRY(sys::fstat(fd.get(), shown));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return base::fail_msg(fmt::format("{}: not a regular file or directory", shown));
  ResolvedSource out{rel, S_ISDIR(st.st_mode), rel.substr(rel.rfind('/') + 1)};
  if (from.context && !from.real_root.empty()) {
    std::string real =
        TRY(sys::readlinkat(AT_FDCWD, fmt::format("/proc/self/fd/{}", fd.get()), shown));
    if (real == from.real_root)
      out.path.clear();
    else if (real.rfind(from.real_root + "/", 0) == 0)
      out.path = real.substr(from.real_root.size() + 1);
    else
      return base::fail_msg(fmt::format("{}: leads outside {}", shown, from.what));
  }
  bool skip_dir = out.directory && from.ignore && from.ignore->can_skip_dir(out.path);
  if (ignored(from, out.path) && (!out.directory || skip_dir))
    return base::fail_msg(fmt::format("{}: excluded by .dockerignore", shown));
  return out;
}

}  // namespace

base::Result<base::UniqueFd> open_source_file(const SourceRoot& from, const std::string& rel) {
  base::UniqueFd fd = TRY(open_source(from, rel, O_RDONLY | O_NONBLOCK, rel));
  struct stat st = TRY(sys::fstat(fd.get(), rel));
  if (!S_ISREG(st.st_mode))
    return base::fail_msg(fmt::format("{}: not a regular file any more", rel));
  return fd;
}

base::Result<std::vector<ResolvedSource>> resolve_sources(const SourceRoot& from,
                                                          const CopyRequest& req) {
  std::vector<ResolvedSource> out;
  for (const std::string& source : req.sources) {
    std::string rel = clean(source);
    if (rel == ".." || rel.rfind("../", 0) == 0)
      return base::fail_msg(fmt::format("{}: outside {}", source, from.what));
    size_t slash = rel.rfind('/');
    std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string last = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (has_glob(dir))
      return base::fail_msg(
          fmt::format("{}: a wildcard is supported in the last path component only", source));
    if (!has_glob(last)) {
      out.push_back(TRY(resolve_one(from, rel, source)));
      continue;
    }
    base::UniqueFd parent =
        TRY(open_source(from, dir, O_RDONLY | O_DIRECTORY, dir.empty() ? "." : dir));
    size_t found = 0;
    for (const std::string& name : TRY(base::list_dir(parent.get(), source))) {
      std::string child = join(dir, name);
      if (::fnmatch(last.c_str(), name.c_str(), 0) != 0 || ignored(from, child)) continue;
      out.push_back(TRY(resolve_one(from, child, child)));
      ++found;
    }
    if (found == 0) return base::fail_msg(fmt::format("{}: no files match", source));
  }
  return out;
}

base::Result<std::string> digest_sources(const SourceRoot& from,
                                         const std::vector<ResolvedSource>& sources) {
  base::Sha256 h;
  add_field(h, "berth build inputs v3");  // entries of another layout never match
  for (const auto& s : sources) {
    add_field(h, s.directory ? "directory" : "file");
    add_field(h, s.path);
    add_field(h, s.name);  // a file copied into a directory is named so
    if (s.directory) {
      base::UniqueFd dir = TRY(open_source(from, s.path, O_RDONLY | O_DIRECTORY, s.path));
      TRY_STATUS(hash_tree(from, dir.get(), s.path, h));
      add_field(h, "end of directory");
    } else {
      base::UniqueFd in = TRY(open_source_file(from, s.path));
      struct stat st = TRY(sys::fstat(in.get(), s.path));
      add_field(h, fmt::format("{:o}", st.st_mode));
      TRY_STATUS(add_content(h, in.get(), static_cast<uint64_t>(st.st_size), s.path));
    }
  }
  return h.digest();
}

base::Status make_directory(int dest_root, const std::string& path, uid_t uid, gid_t gid) {
  CopyRequest req;
  req.uid = uid;
  req.gid = gid;
  TRY_STATUS(make_parents(dest_root, path, req));
  return {};
}

base::Status copy_sources(const SourceRoot& from, const std::vector<ResolvedSource>& sources,
                          const CopyRequest& req, int dest_root) {
  bool dest_is_dir = req.dest.ends_with('/');
  if (sources.size() > 1 && !dest_is_dir)
    return base::fail_msg(fmt::format(
        "to {}: with more than one source the destination must be a directory ending in /",
        req.dest));
  Copier copier{from, req};
  for (const auto& s : sources) {
    if (s.directory) {
      base::UniqueFd dest = TRY(make_parents(dest_root, req.dest, req));
      base::UniqueFd dest_dir =
          TRY(sys::openat(dest.get(), ".", O_RDONLY | O_DIRECTORY, 0, req.dest));
      base::UniqueFd src = TRY(open_source(from, s.path, O_RDONLY | O_DIRECTORY, s.path));
      TRY_STATUS(copier.directory(src.get(), s.path, dest_dir.get(), req.dest));
      continue;
    }
    std::string dest = req.dest;
    const std::string& base_name = s.name;
    auto existing = sys::openat2(dest_root, clean(dest).empty() ? "." : clean(dest),
                                 O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT, dest);
    if (dest_is_dir || existing) dest = fmt::format("{}/{}", clean(dest), base_name);
    std::string target = clean(dest);
    size_t slash = target.rfind('/');
    std::string parent = slash == std::string::npos ? "" : target.substr(0, slash);
    std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
    if (name.empty() || name == "..")
      return base::fail_msg(fmt::format("to {}: not a file name", req.dest));
    base::UniqueFd dir = TRY(make_parents(dest_root, "/" + parent, req));
    base::UniqueFd dir_rw = TRY(sys::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY, 0, parent));
    base::UniqueFd in = TRY(open_source_file(from, s.path));
    TRY_STATUS(copier.file(in.get(), "/" + target, dir_rw.get(), name));
  }
  return {};
}

}  // namespace berth::build
