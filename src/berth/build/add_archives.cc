#include "berth/build/add_archives.h"

#include <fcntl.h>
#include <linux/openat2.h>

#include "base/sys.h"
#include "berth/build/text.h"
#include "berth/image/layer_writer.h"
#include "berth/image/tar_unpack.h"

namespace berth::build {

base::Result<std::vector<ResolvedSource>> take_archives(const SourceRoot& from,
                                                        std::vector<ResolvedSource>& sources) {
  std::vector<ResolvedSource> archives, rest;
  for (auto& s : sources) {
    bool archive = false;
    if (!s.directory) {
      base::UniqueFd in = TRY(open_source_file(from, s.path));
      archive = is_tar_archive(in.get());
    }
    (archive ? archives : rest).push_back(std::move(s));
  }
  sources = std::move(rest);
  return archives;
}

base::Status unpack_archives(const SourceRoot& from, const std::vector<ResolvedSource>& archives,
                             const std::string& dest, int dest_root) {
  if (archives.empty()) return {};
  TRY_STATUS(make_directory(dest_root, dest));
  std::string in_root = clean_path(dest);
  base::UniqueFd dir = TRY(base::sys::openat2(dest_root, in_root == "/" ? "." : in_root.substr(1),
                                              O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT, dest));
  LayerWriter out = LayerWriter::at(std::move(dir), dest);
  TarUnpackOptions options;
  options.whiteouts = false;
  options.decompress = true;
  for (const auto& a : archives) {
    base::UniqueFd in = TRY(open_source_file(from, a.path));
    TRY_STATUS(unpack_tar(in.get(), out, options, a.path));
  }
  return {};
}

}  // namespace berth::build
