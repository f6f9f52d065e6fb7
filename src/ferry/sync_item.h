// rsync's itemized-change lines (-i), so people and scripts that read
// rsync's output read ferry's: "YXcstpoguax NAME". Y is what happens ('>'
// the file's content comes, 'c' a local change such as a new directory or
// link, 'h' a hard link to a file named after "=>", '.' only attributes
// change, '*' a message such as "*deleting"); X the
// kind ('f' file, 'd' directory, 'L' symlink); then one letter per attribute
// that differs (c content/link value, s size, t mtime, p permissions, o owner,
// g group, x extended attributes; u and a are always '.'), or "+++++++++" for
// something new.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "ferry/messages.h"

namespace ferry {

struct ItemChanges {
  bool content = false;  // 'c': a file's checksum (with --checksum) or a link's target
  bool size = false;
  bool time = false;
  bool perms = false;
  bool owner = false;
  bool group = false;
  bool xattrs = false;  // 'x' (-X)
  bool any() const { return content || size || time || perms || owner || group || xattrs; }
};

char item_kind(EntryKind kind);
// `name` as rsync shows it: "./" for the transfer's root, a trailing '/' on
// directories, " -> TARGET" after a symlink (rsync's %L).
std::string item_name(const std::string& rel, EntryKind kind, const std::string& link = {});
// Something new: ">f+++++++++ a/b", "cd+++++++++ a/", "cL+++++++++ l".
std::string item_new(EntryKind kind, const std::string& rel, const std::string& link = {});
// Something that exists and changes: `update` is Y.
std::string item_changed(char update, EntryKind kind, const ItemChanges& c, const std::string& rel,
                         const std::string& link = {});
// "*deleting   a/b" (a directory with its trailing '/').
std::string item_deleting(const std::string& rel, bool is_dir);

}  // namespace ferry
