#include "berth/build/add_archives.h"

#include <fcntl.h>
#include <linux/openat2.h>

#include <fmt/format.h>

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
  TarUnpackOptions options;
  options.prefix = clean_path(dest).substr(1);  // "" for the root
  options.whiteouts = false;
  options.decompress = true;
  for (const auto& a : archives) {
    // A writer per archive: each sets its own directories' times at its end.
    base::UniqueFd root(::fcntl(dest_root, F_DUPFD_CLOEXEC, 3));
    if (!root) return base::fail_msg(fmt::format("{}: no descriptor left", a.path));
    LayerWriter out = LayerWriter::in_root(std::move(root), dest);
    base::UniqueFd in = TRY(open_source_file(from, a.path));
    TRY_STATUS(unpack_tar(in.get(), out, options, a.path));
  }
  return {};
}

}  // namespace berth::build
