// Backups: rsync's --backup for a sync's receiver. Before a sync replaces or
// deletes a file, link or other non-directory, that entry is moved aside:
// beside itself as NAME + suffix ("~" by default), or, with a backup
// directory, to the same relative path inside it (suffix "" by default).
// A backup replaces an older backup of the same name. Directories are not
// backed up; their contents are, one by one.
//
// Safety: the entry is renamed within the target (or into the backup
// directory, an open descriptor the caller resolved), never copied or
// followed; the backup directory's subdirectories are made and opened
// with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no link planted
// there leads a backup outside it. A backup directory on another
// filesystem fails each backup (EXDEV), naming it; nothing is lost.
// Thread-safety: keep() under the receiver's lock; is_backup() pure.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

class Backups {
 public:
  // Beside each entry, as NAME + `suffix` (not empty, no '/').
  static Backups beside(std::string suffix);
  // Into `dir` at each entry's path beneath `target` (the sync's target
  // directory; its directories' modes are given to the ones made in `dir`),
  // plus `suffix`. Refused when `dir` is the target and `suffix` empty: each
  // backup would be the file itself (rsync refuses it too).
  static base::Result<Backups> into(base::UniqueFd dir, int target, std::string suffix);

  // Moves the non-directory `leaf` of `parent` (at `rel` beneath the
  // target) to its backup.
  base::Status keep(int parent, const std::string& leaf, const std::string& rel);
  // Whether the entry `name` (stat `st`) in a swept directory is one of
  // ours: a backup made beside a file, or the backup directory itself.
  // --delete leaves those alone, as rsync's protect rule does.
  bool is_backup(const std::string& name, const struct stat& st) const;
  // Whether a kept entry leaves its directory (a backup directory), so a
  // deleted directory can go once its contents are kept.
  bool moves_out() const { return dir_.get() >= 0; }

 private:
  Backups() = default;
  std::string suffix_;
  base::UniqueFd dir_;
  base::UniqueFd target_;
  dev_t dir_dev_ = 0;
  ino_t dir_ino_ = 0;
};

// rsync's --backup-dir for the receiver: `path` relative to the directory
// `base` (or absolute, unless `beneath`), opened as a directory, each
// missing directory on the way made. `beneath` (a server's served
// directory as `base`): every step stays beneath it and follows no link.
base::Result<base::UniqueFd> open_backup_dir(int base, const std::string& path, bool beneath);

}  // namespace ferry
