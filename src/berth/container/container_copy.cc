#include "berth/container/container_copy.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "base/pending_file.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "berth/container/containers.h"
#include "berth/image/layer_writer.h"
#include "berth/image/tar_unpack.h"
#include "berth/image/tree_copy.h"
#include "berth/image/tree_tar.h"

namespace berth {
namespace {
namespace sys = base::sys;

// "/a/b/" -> "a/b"; "/" -> "".
std::string relative(const std::string& path) {
  std::string r = path;
  while (!r.empty() && r.front() == '/') r.erase(0, 1);
  while (!r.empty() && r.back() == '/') r.pop_back();
  return r;
}

// The last name of `path` ("" for the root).
std::string base_name(const std::string& path) {
  std::string r = relative(path);
  auto slash = r.rfind('/');
  return slash == std::string::npos ? r : r.substr(slash + 1);
}

std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : fmt::format("{}/{}", dir, name);
}

bool contents_only(const std::string& src) {
  return src == "." || src.ends_with("/.");
}

// `path` in the container's root, as the container resolves it (its last
// name too, unless it is a symlink and `follow` is off), held as O_PATH.
base::Result<base::UniqueFd> find_in_root(int root, const std::string& path, bool follow,
                                          const std::string& shown) {
  std::string rel = relative(path);
  return sys::openat2(root, rel.empty() ? "." : rel, O_PATH | (follow ? 0 : O_NOFOLLOW), 0,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, shown);
}

// What `found` (O_PATH) is, opened to be read when it is a regular file or
// a directory; never opened otherwise (a device's driver is not called).
base::Result<base::UniqueFd> open_found(int found, const struct stat& st,
                                        const std::string& shown) {
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return base::fail_msg(fmt::format("{}: not a file or a directory", shown));
  return sys::open(fmt::format("/proc/self/fd/{}", found),
                   O_RDONLY | O_NOCTTY | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
}

// Where a copy lands, by docker's rules (the header), relative to `base`
// (the container's root, or "" for a host path taken as it is).
struct Landing {
  std::string target;          // the path the source becomes
  bool into_existing = false;  // what a directory holds goes into `target`, which exists
};

base::Result<Landing> landing(const std::string& src, bool src_is_dir, const std::string& dest,
                              const std::optional<struct stat>& dest_st) {
  std::string name = base_name(src);
  if (dest_st && S_ISDIR(dest_st->st_mode)) {
    if (src_is_dir && contents_only(src)) return Landing{dest, true};
    if (name.empty() || name == ".") return Landing{dest, true};
    return Landing{join(dest, name), false};
  }
  if (dest_st) {
    if (src_is_dir)
      return base::fail_msg(fmt::format("cannot copy a directory to a file: {}", dest));
    return Landing{dest, false};
  }
  if (dest.ends_with("/"))
    return base::fail_msg(fmt::format("the destination directory {} must exist", dest));
  return Landing{dest, false};
}

// A single file to the host: written under a temporary name beside its
// destination and renamed into place when whole.
base::Status copy_file_to_host(int from, const struct stat& st, const std::string& target,
                               const std::string& shown, const CopyRules& rules) {
  base::PendingFile file = TRY(base::PendingFile::create(target, 0600));
  TRY_STATUS(copy_bytes(file.fd(), from, static_cast<uint64_t>(st.st_size), shown));
  TRY_STATUS(sys::fchown(file.fd(), rules.owner->uid, rules.owner->gid, target));
  TRY_STATUS(sys::fchmod(file.fd(), st.st_mode & 0777, target));
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  TRY_STATUS(sys::futimens(file.fd(), times, target));
  return file.commit();
}

}  // namespace

base::Status copy_from_container(const Paths& p, const std::string& container,
                                 const std::string& src, const std::string& dest, bool follow,
                                 int out) {
  return with_container_root(p, container, [&](const std::string& rootfs) -> base::Status {
    base::UniqueFd root = TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    std::string shown = fmt::format("{}:{}", container, src);
    auto found = find_in_root(root.get(), src, follow, shown);
    if (!found && found.error().code() == ENOENT)
      return base::fail_msg(fmt::format("no such file or directory in the container: {}", shown));
    base::UniqueFd at = TRY(std::move(found));
    struct stat st = TRY(sys::fstat(at.get(), shown));
    std::string name = base_name(src);
    if (S_ISLNK(st.st_mode)) {  // copied as the link itself, as docker does without -L
      std::string target = TRY(sys::readlinkat(at.get(), "", shown));
      if (dest == "-")
        return write_symlink_tar(out, name.empty() ? "link" : name, target, st, shown);
      std::optional<struct stat> dest_st;
      if (auto s = sys::fstatat(AT_FDCWD, dest, 0)) dest_st = *s;
      Landing l = TRY(landing(src, false, dest, dest_st));
      std::string parent = parent_of(l.target);
      if (l.target.front() == '/' && parent.empty()) parent = "/";
      LayerWriter w = TRY(LayerWriter::open(parent.empty() ? "." : parent));
      TRY_STATUS(w.symlink(base_name(l.target), target,
                           {0777, ::geteuid(), ::getegid(), st.st_mtim.tv_sec, 0}));
      return w.finish();
    }
    base::UniqueFd from = TRY(open_found(at.get(), st, shown));
    if (dest == "-") {
      std::string top = contents_only(src) ? "" : name;
      if (top.empty() && !S_ISDIR(st.st_mode)) top = "file";
      return write_tree_tar(out, from.get(), top, shown);
    }
    std::optional<struct stat> dest_st;
    if (auto s = sys::fstatat(AT_FDCWD, dest, 0)) dest_st = *s;
    Landing l = TRY(landing(src, S_ISDIR(st.st_mode), dest, dest_st));
    // On the host: the files are the user's, and what only root should
    // hold (device nodes, setuid or setgid bits) is left out.
    CopyRules rules{CopyOwner{::geteuid(), ::getegid()}, false};
    if (l.into_existing) {
      LayerWriter w = TRY(LayerWriter::open(l.target));
      TRY_STATUS(copy_tree(from.get(), w, "", shown, rules));
      return w.finish();
    }
    if (S_ISREG(st.st_mode)) return copy_file_to_host(from.get(), st, l.target, shown, rules);
    std::string parent = parent_of(l.target);
    if (l.target.front() == '/' && parent.empty()) parent = "/";
    LayerWriter w = TRY(LayerWriter::open(parent.empty() ? "." : parent));
    TRY_STATUS(copy_entry(from.get(), st, w, base_name(l.target), shown, rules));
    return w.finish();
  });
}

base::Status copy_to_container(const Paths& p, const std::string& src, const std::string& container,
                               const std::string& dest, bool archive, int in) {
  return with_container_root(p, container, [&](const std::string& rootfs) -> base::Status {
    base::UniqueFd root = TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    std::string shown = fmt::format("{}:{}", container, dest);
    std::optional<struct stat> dest_st;
    if (auto fd = find_in_root(root.get(), dest, true, shown))
      dest_st = TRY(sys::fstat(fd->get(), shown));
    LayerWriter w = LayerWriter::in_root(TRY(sys::open(rootfs, O_PATH | O_DIRECTORY)), shown);
    if (src == "-") {
      if (!dest_st || !S_ISDIR(dest_st->st_mode))
        return base::fail_msg(fmt::format("{}: the destination must be a directory", shown));
      TarUnpackOptions options;
      options.prefix = relative(dest);
      options.whiteouts = false;
      options.decompress = true;
      if (!archive) options.owner = std::pair<uid_t, gid_t>{0, 0};
      TRY_STATUS(unpack_tar(in, w, options, "the tar on standard input"));
      return w.finish();
    }
    base::UniqueFd from = TRY(sys::open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY));
    struct stat st = TRY(sys::fstat(from.get(), src));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
      return base::fail_msg(fmt::format("{}: not a file or a directory", src));
    std::string dest_rel = relative(dest);
    Landing l = TRY(landing(src, S_ISDIR(st.st_mode),
                            dest.ends_with("/") ? dest_rel + "/" : dest_rel, dest_st));
    if (l.target.ends_with("/")) l.target.pop_back();
    if (!dest_st) {  // it is made; where it goes must be there
      auto parent = find_in_root(root.get(), parent_of(l.target), true, shown);
      if (!parent || !S_ISDIR(TRY(sys::fstat(parent->get(), shown)).st_mode))
        return base::fail_msg(
            fmt::format("{}: no such directory in the container: /{}", shown, parent_of(l.target)));
    }
    CopyRules rules;
    if (!archive) rules.owner = CopyOwner{0, 0};  // docker's: root's, unless -a
    if (l.into_existing)
      TRY_STATUS(copy_tree(from.get(), w, l.target, src, rules));
    else
      TRY_STATUS(copy_entry(from.get(), st, w, l.target, src, rules));
    return w.finish();
  });
}

base::Status export_container(const Paths& p, const std::string& container, int out) {
  return with_container_root(p, container, [&](const std::string& rootfs) -> base::Status {
    base::UniqueFd root = TRY(sys::open(rootfs, O_RDONLY | O_DIRECTORY));
    return write_tree_tar(out, root.get(), "", fmt::format("container {}", container));
  });
}

}  // namespace berth
