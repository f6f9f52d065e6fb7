// TreeWalk: enumerates what a sender sends, depth first, a directory before
// its contents. Symbolic links are reported as links and never followed;
// devices, FIFOs and sockets are skipped with a warning. Regular files are
// opened during the walk (O_NOFOLLOW), so the metadata sent is the metadata
// of the very file that will be read.
//
// With a filter (ferry sync), entries the sender-side rules exclude are not
// reported and excluded directories are not entered; rule paths are relative
// to the transfer root: the root's name comes first, unless `contents` (the
// root directory's contents are what is sent, as rsync's "src/").
//
// Each root is a path opened by the caller (a local path for uploads; a path
// resolved beneath the served directory for downloads). An entry's path is
// the root's name followed by its path inside the root.
// Thread-safety: single-threaded.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "ferry/messages.h"
#include "ferry/sync/filter_walk.h"
#include "ferry/xattrs.h"

namespace ferry {

struct WalkItem {
  Entry entry;          // id is left 0; the sender numbers entries
  base::UniqueFd file;  // open for reading when entry.kind == kFile
  Xattrs xattrs;        // with set_xattrs(), a file's or directory's
  size_t root_index = 0;
  std::string path_in_root;  // "" for the root itself
};

struct WalkRoot {
  base::UniqueFd parent;  // directory holding the root
  std::string name;       // the root's name in `parent`
  std::string send_as;    // the name the receiver sees (usually == name)
  base::UniqueFd stream;  // instead: a pipe (standard input) sent as one growing file
};

class TreeWalk {
 public:
  TreeWalk(std::vector<WalkRoot> roots, bool recursive);
  // Applies `rules` (which must outlive the walk) from the next root on.
  void set_filter(const sync::FilterRules* rules, bool contents);
  // Regular files are not opened during the walk (WalkItem::file stays
  // empty): a sync that skips most files saves an open and close of each.
  // The sender opens a file with reopen() when it needs its data and checks
  // it is still the file announced.
  void set_lazy_open(bool on) { lazy_open_ = on; }
  // -H: a regular file's second and later names (same device and inode)
  // come as kHardLink entries naming the first, which gets kEntryHasLinks.
  void set_hard_links(bool on) { hard_links_ = on; }
  // -X: each file's and directory's extended attributes (xattrs.h; the
  // privileged namespaces too when `privileged`).
  void set_xattrs(bool on, bool privileged) {
    xattrs_ = on;
    xattrs_privileged_ = privileged;
  }
  ~TreeWalk();
  TreeWalk(const TreeWalk&) = delete;
  TreeWalk& operator=(const TreeWalk&) = delete;

  // The next item, std::nullopt at the end. A per-entry problem (unreadable
  // file, vanished entry) is returned as an error; the walk can continue.
  base::Result<std::optional<WalkItem>> next();
  // Opens a regular file again by its place in the walk (for a re-send).
  base::Result<base::UniqueFd> reopen(size_t root_index, const std::string& path_in_root) const;

 private:
  struct Level {
    DIR* dir = nullptr;
    int fd = -1;  // owned by `dir`
    std::string path_in_root;
  };
  // nullopt: excluded by the filter.
  base::Result<std::optional<WalkItem>> visit(int parent_fd, const std::string& name,
                                              const std::string& path_in_root);
  std::string rule_path(const std::string& path_in_root) const;
  void pop_level();

  std::vector<WalkRoot> roots_;
  bool recursive_;
  size_t next_root_ = 0;
  std::vector<Level> stack_;
  std::optional<sync::FilterWalk> filter_;
  bool contents_ = false;
  bool lazy_open_ = false;
  bool hard_links_ = false;
  bool xattrs_ = false, xattrs_privileged_ = false;
  // -H: the entry path of the first name seen of each (device, inode) with
  // more than one link.
  std::map<std::pair<dev_t, ino_t>, std::string> first_names_;
};

}  // namespace ferry
