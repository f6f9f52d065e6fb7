#include "berth/container/container_copy.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

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

// `path` in the container's root, as the container resolves it.
base::Result<base::UniqueFd> open_in_root(int root, const std::string& path, int flags,
                                          const std::string& shown) {
  std::string rel = relative(path);
  return sys::openat2(root, rel.empty() ? "." : rel, flags, 0,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, shown);
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

}  // namespace

base::Status copy_from_container(const Paths& p, const std::string& container,
                                 const std::string& src, const std::string& dest, int out) {
  return with_container_root(p, container, [&](const std::string& rootfs) -> base::Status {
    base::UniqueFd root = TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    std::string shown = fmt::format("{}:{}", container, src);
    auto fd = open_in_root(root.get(), src, O_RDONLY | O_NONBLOCK, shown);
    if (!fd && fd.error().code() == ENOENT)
      return base::fail_msg(fmt::format("no such file or directory in the container: {}", shown));
    base::UniqueFd from = TRY(std::move(fd));
    struct stat st = TRY(sys::fstat(from.get(), shown));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
      return base::fail_msg(fmt::format("{}: not a file or a directory", shown));
    if (dest == "-") {
      std::string top = contents_only(src) ? "" : base_name(src);
      if (top.empty() && !S_ISDIR(st.st_mode)) top = "file";
      return write_tree_tar(out, from.get(), top, shown);
    }
    std::optional<struct stat> dest_st;
    if (auto s = sys::fstatat(AT_FDCWD, dest, 0)) dest_st = *s;
    Landing l = TRY(landing(src, S_ISDIR(st.st_mode), dest, dest_st));
    CopyOwner me{::geteuid(), ::getegid()};
    if (l.into_existing) {
      LayerWriter w = TRY(LayerWriter::open(l.target));
      TRY_STATUS(copy_tree(from.get(), w, "", shown, me));
      return w.finish();
    }
    std::string parent = parent_of(l.target);
    if (l.target.front() == '/' && parent.empty()) parent = "/";
    LayerWriter w = TRY(LayerWriter::open(parent.empty() ? "." : parent));
    TRY_STATUS(copy_entry(from.get(), st, w, base_name(l.target), shown, me));
    return w.finish();
  });
}

base::Status copy_to_container(const Paths& p, const std::string& src, const std::string& container,
                               const std::string& dest, bool archive, int in) {
  return with_container_root(p, container, [&](const std::string& rootfs) -> base::Status {
    base::UniqueFd root = TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    std::string shown = fmt::format("{}:{}", container, dest);
    std::optional<struct stat> dest_st;
    if (auto fd = open_in_root(root.get(), dest, O_PATH, shown))
      dest_st = TRY(sys::fstat(fd->get(), shown));
    LayerWriter w = LayerWriter::in_root(TRY(sys::open(rootfs, O_PATH | O_DIRECTORY)), shown);
    if (src == "-") {
      if (!dest_st || !S_ISDIR(dest_st->st_mode))
        return base::fail_msg(fmt::format("{}: the destination must be a directory", shown));
      TarUnpackOptions options;
      options.prefix = relative(dest);
      options.whiteouts = false;
      options.decompress = true;
      TRY_STATUS(unpack_tar(in, w, options, "the tar on standard input"));
      return w.finish();
    }
    base::UniqueFd from = TRY(sys::open(src, O_RDONLY | O_NONBLOCK));
    struct stat st = TRY(sys::fstat(from.get(), src));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
      return base::fail_msg(fmt::format("{}: not a file or a directory", src));
    std::string dest_rel = relative(dest);
    Landing l = TRY(landing(src, S_ISDIR(st.st_mode),
                            dest.ends_with("/") ? dest_rel + "/" : dest_rel, dest_st));
    if (l.target.ends_with("/")) l.target.pop_back();
    if (!dest_st) {  // it is made; where it goes must be there
      auto parent = open_in_root(root.get(), parent_of(l.target), O_PATH | O_DIRECTORY, shown);
      if (!parent)
        return base::fail_msg(
            fmt::format("{}: no such directory in the container: /{}", shown, parent_of(l.target)));
    }
    std::optional<CopyOwner> owner;
    if (!archive) owner = CopyOwner{0, 0};
    if (l.into_existing)
      TRY_STATUS(copy_tree(from.get(), w, l.target, src, owner));
    else
      TRY_STATUS(copy_entry(from.get(), st, w, l.target, src, owner));
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
