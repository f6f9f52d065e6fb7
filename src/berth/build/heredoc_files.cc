#include "berth/build/heredoc_files.h"

#include <fcntl.h>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"

namespace berth::build {

base::Status check_heredoc_name(const std::string& name) {
  // No '/' (a path), and no glob character: the name is matched as a source.
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of("/*?[\\") != std::string::npos)
    return base::fail_msg(fmt::format(
        "<<{}: a here-document's delimiter names its file, so it must be a file name", name));
  return {};
}

base::Status copy_heredoc_files(const std::vector<HeredocFile>& files, const std::string& scratch,
                                const CopyRequest& req, int dest_root) {
  TRY_STATUS(base::sys::mkdirat(AT_FDCWD, scratch, 0700));
  CopyRequest named = req;
  named.sources.clear();
  for (const auto& f : files) {
    TRY_STATUS(check_heredoc_name(f.name));
    std::string path = fmt::format("{}/{}", scratch, f.name);
    TRY_STATUS(base::replace_file(path, f.content));
    TRY_STATUS(base::sys::fchmodat(AT_FDCWD, path, 0644));
    named.sources.push_back(f.name);
  }
  base::UniqueFd dir = TRY(base::sys::open(scratch, O_PATH | O_DIRECTORY));
  SourceRoot from;
  from.fd = dir.get();
  from.context = true;  // confined beneath, as the context is
  from.what = "the here-documents";
  std::vector<ResolvedSource> sources = TRY(resolve_sources(from, named));
  return copy_sources(from, sources, named, dest_root);
}

}  // namespace berth::build
