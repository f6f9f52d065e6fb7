// Extended attributes for `ferry sync -X`, as rsync -X carries them: the
// user.* namespace always; trusted.* and security.* too where the side is
// privileged (root, and on a receiving server only with --keep-owners: a
// security.capability is a set-id bit by another name); never system.*
// (ACLs) nor anything else. A side manages only the names it carries: on
// the receiver, those are set to the sender's values, and carried names
// the sender's file lacks are removed; others are left alone.
// Thread-safety: pure functions and syscalls; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace ferry {

// Name and value pairs, sorted by name.
using Xattrs = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kMaxXattrName = 255;     // XATTR_NAME_MAX
inline constexpr size_t kMaxXattrValue = 65536;  // XATTR_SIZE_MAX
inline constexpr size_t kMaxXattrs = 1024;       // per entry
// The most an entry's attributes may take encoded (an XATTRS frame); an
// entry with more is not sent (an error for that entry alone).
inline constexpr uint32_t kMaxXattrsPayload = 16u << 20;

bool xattr_carried(std::string_view name, bool privileged);

// The carried attributes of `name` in directory `dir_fd`, never following
// it if it is a link (the sender's walk, which holds no descriptor of it).
base::Result<Xattrs> read_xattrs_at(int dir_fd, const std::string& name, bool privileged,
                                    const std::string& shown);
// The carried attributes of an open file or directory.
base::Result<Xattrs> read_xattrs(int fd, bool privileged, const std::string& shown);
// Makes `fd`'s carried attributes exactly `want` (sorted): sets what
// differs, removes what `want` lacks.
base::Status write_xattrs(int fd, const Xattrs& have, const Xattrs& want, bool privileged,
                          const std::string& shown);

}  // namespace ferry
