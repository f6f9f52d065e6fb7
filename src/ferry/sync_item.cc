#include "ferry/sync_item.h"

namespace ferry {

char item_kind(EntryKind kind) {
  switch (kind) {
    case EntryKind::kDir:
      return 'd';
    case EntryKind::kSymlink:
      return 'L';
    case EntryKind::kFile:
    case EntryKind::kHardLink:
      break;
  }
  return 'f';
}

std::string item_name(const std::string& rel, EntryKind kind, const std::string& link) {
  if (rel.empty()) return "./";
  if (kind == EntryKind::kSymlink && !link.empty()) return rel + " -> " + link;
  if (kind == EntryKind::kHardLink) return rel + " => " + link;
  return kind == EntryKind::kDir ? rel + "/" : rel;
}

std::string item_new(EntryKind kind, const std::string& rel, const std::string& link) {
  std::string line(1, kind == EntryKind::kFile ? '>' : kind == EntryKind::kHardLink ? 'h' : 'c');
  line += item_kind(kind);
  line += "+++++++++ ";
  return line + item_name(rel, kind, link);
}

std::string item_changed(char update, EntryKind kind, const ItemChanges& c, const std::string& rel,
                         const std::string& link) {
  std::string line{update, item_kind(kind)};
  line += c.content ? 'c' : '.';
  line += c.size ? 's' : '.';
  line += c.time ? 't' : '.';
  line += c.perms ? 'p' : '.';
  line += c.owner ? 'o' : '.';
  line += c.group ? 'g' : '.';
  line += "..";
  line += c.xattrs ? "x " : ". ";
  return line + item_name(rel, kind, link);
}

std::string item_deleting(const std::string& rel, bool is_dir) {
  return "*deleting   " + item_name(rel, is_dir ? EntryKind::kDir : EntryKind::kFile);
}

}  // namespace ferry
