// COPY and ADD of here-documents (`COPY <<EOF /etc/app.conf`), by BuildKit's
// rules: each here-document becomes a file named after its delimiter, with
// the body as its content (variables expanded by the caller unless the
// delimiter was quoted), mode 0644 unless --chmod, owned by root unless
// --chown, and copied to the destination as COPY copies a file from the
// context (a destination ending in "/" or naming a directory keeps the
// name; else the file takes the destination's). The files are written to a
// scratch directory of the step first, then copied with copy_files.h, so
// the same confinement applies to where they land.
// Thread-safety: none needed.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/build/copy_files.h"

namespace berth::build {

struct HeredocFile {
  std::string name;     // the delimiter: a file name, no '/' and no glob character
  std::string content;  // as it will be written
};

// The delimiter as a file name, or an error naming it.
base::Status check_heredoc_name(const std::string& name);

// Writes `files` into the new directory `scratch` and copies them to
// `req.dest` in the root `dest_root` (req.sources is ignored).
base::Status copy_heredoc_files(const std::vector<HeredocFile>& files, const std::string& scratch,
                                const CopyRequest& req, int dest_root);

}  // namespace berth::build
