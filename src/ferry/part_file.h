// A receiver's part files: where a file is written until it is whole, next
// to its final name (docs/PROTOCOL.md, "Files on the receiver").
// Thread-safety: pure functions; the files are the caller's to lock.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

// ".NAME.ferry-part", or ".ferry-part-<XXH3 of NAME>" when that is too long.
std::string part_name_for(const std::string& leaf);

// The part file `name` in `dir`, opened for writing. One that is not a plain
// file of our own with a single link (a hard link to a file elsewhere, planted
// by anyone who can write the directory) is replaced, never written through.
base::Result<base::UniqueFd> open_part_file(const base::UniqueFd& dir, const std::string& name,
                                            const std::string& shown);

}  // namespace ferry
