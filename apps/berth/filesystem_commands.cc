// A container's files: cp, export, diff (berth/container/container_copy.h,
// container_changes.h).
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/pending_file.h"
#include "berth/container/container_changes.h"
#include "berth/container/container_copy.h"
#include "berth/container/containers.h"

namespace berth_cli {
namespace {

// "NAME:PATH" -> {NAME, PATH}; a host path ("/x", "./a:b", "-") -> nullopt.
// docker's rule: a colon before any "/" names a container.
std::optional<std::pair<std::string, std::string>> container_path(const std::string& arg) {
  auto colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  if (arg.find('/') < colon) return std::nullopt;
  return std::pair{arg.substr(0, colon), arg.substr(colon + 1)};
}

}  // namespace

void add_filesystem_commands(CLI::App& app, Globals& g) {
  static std::string from, to, output, target;
  static bool archive = false, follow = false;
  auto* cp = app.add_subcommand(
      "cp",
      "copy files between a container and the host: CONTAINER:SRC DEST|- or SRC|- "
      "CONTAINER:DEST");
  cp->add_flag("-a,--archive", archive, "keep the owners of what is copied in");
  cp->add_flag("-L,--follow-link", follow, "copy what a symlink SRC names, not the link");
  cp->add_option("from", from, "CONTAINER:SRC, a host path, or -")->required();
  cp->add_option("to", to, "CONTAINER:DEST, a host path, or -")->required();
  cp->callback([&g] {
    auto in = container_path(from), out = container_path(to);
    if (in && out)
      return fail(g, base::Error::msg("cp: copying between containers is not supported"));
    if (!in && !out)
      return fail(g, base::Error::msg("cp: one of the paths must be CONTAINER:PATH"));
    berth::Paths p{g.root, g.run_root};
    if (in) {
      if (to == "-" && ::isatty(1))
        return fail(g, base::Error::msg("cp: refusing to write a tar to a terminal"));
      if (auto s = berth::copy_from_container(p, in->first, in->second, to, follow, 1); !s)
        fail(g, s.error());
      return;
    }
    if (auto s = berth::copy_to_container(p, from, out->first, out->second, archive, 0); !s)
      fail(g, s.error());
  });

  auto* exp = app.add_subcommand("export", "a container's root filesystem as a tar");
  exp->add_option("-o,--output", output, "a file (default: standard output)");
  exp->add_option("container", target, "id or name")->required();
  exp->callback([&g] {
    berth::Paths p{g.root, g.run_root};
    if (output.empty() || output == "-") {
      if (::isatty(1))
        return fail(g,
                    base::Error::msg("export: refusing to write a tar to a terminal; use -o FILE"));
      if (auto s = berth::export_container(p, target, 1); !s) fail(g, s.error());
      return;
    }
    // Never a partial tar under the name asked for.
    auto file = base::PendingFile::create(output);
    if (!file) return fail(g, file.error());
    if (auto s = berth::export_container(p, target, file->fd()); !s) return fail(g, s.error());
    if (auto s = file->commit(); !s) fail(g, s.error());
  });

  auto* diff = app.add_subcommand("diff", "what a container changed in its root: A, C, D");
  diff->add_option("container", target, "id or name")->required();
  diff->callback([&g] {
    auto rec = berth::find_container(g.root, target);
    if (!rec) return fail(g, rec.error());
    auto changes = berth::container_changes(berth::container_dir(g.root, rec->id));
    if (!changes) return fail(g, changes.error());
    for (const auto& c : *changes) std::printf("%c %s\n", c.kind, c.path.c_str());
  });
}

}  // namespace berth_cli
