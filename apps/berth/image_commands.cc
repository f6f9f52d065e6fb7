// Image commands: import, images, tag, rmi, save, load, image prune.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/units.h"
#include "berth/container/containers.h"
#include "berth/image/image_archive.h"
#include "berth/image/image_store.h"
#include "berth/image/importer.h"
#include "berth/image/reference.h"

namespace berth_cli {
namespace {

std::string short_id(const std::string& digest) {
  return digest.substr(7, 12);
}

}  // namespace

void add_image_commands(CLI::App& app, Globals& g) {
  static std::string tar, name, source, target, format;
  static std::vector<std::string> names;
  static bool quiet = false;

  auto* imp =
      app.add_subcommand("import", "make an image from a root filesystem tar (- for stdin)");
  imp->add_option("tar", tar, "tar file (plain, gzip or zstd)")->required();
  imp->add_option("name", name, "image name, e.g. localhost/app:1")->required();
  imp->callback([&g] {
    berth::ImageStore store(g.root);
    auto id = berth::import_rootfs(store, tar, name);
    if (!id) return fail(g, id.error());
    std::printf("%s\n", id->c_str());
  });

  auto* images = app.add_subcommand("images", "list images");
  images->add_flag("-q,--quiet", quiet, "ids only");
  images->add_option("--format", format, "json, or a template: table {{.Repository}}\\t{{.ID}}");
  images->callback([&g] {
    berth::ImageStore store(g.root);
    auto list = store.list();
    if (format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& i : list)
        out.push_back({{"Id", i.id}, {"Names", i.names}, {"Size", i.size}, {"Created", i.created}});
      std::printf("%s\n", out.dump().c_str());
      return;
    }
    std::vector<nlohmann::json> rows;
    for (const auto& i : list) {
      auto row = [&](const std::string& repository, const std::string& tag) {
        rows.push_back({{"Repository", repository},
                        {"Tag", tag},
                        {"ID", short_id(i.id)},
                        {"Digest", i.id},
                        {"CreatedAt", i.created},
                        {"Size", base::units::bytes(i.size)}});
      };
      for (const auto& n : i.names) row(n.substr(0, n.rfind(':')), n.substr(n.rfind(':') + 1));
      if (i.names.empty()) row("<none>", "<none>");
    }
    std::sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return std::tie(b["CreatedAt"], a["Repository"], a["Tag"]) <
             std::tie(a["CreatedAt"], b["Repository"], b["Tag"]);  // newest first, then by name
    });
    if (quiet) {  // one line per image, not per name
      rows.clear();
      for (const auto& i : list) rows.push_back({{"ID", short_id(i.id)}});
    }
    std::string fmt = !format.empty() ? format
                      : quiet         ? "{{.ID}}"
                                      : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}";
    print_template(g, fmt, rows, {{"ID", "IMAGE ID"}, {"CreatedAt", "CREATED"}});
  });

  auto* tag = app.add_subcommand("tag", "give an image another name");
  tag->add_option("source", source, "image")->required();
  tag->add_option("target", target, "new name")->required();
  tag->callback([&g] {
    berth::ImageStore store(g.root);
    auto digest = store.resolve(source);
    if (!digest) return fail(g, digest.error());
    auto ref = berth::parse_reference(target);
    if (!ref) return fail(g, ref.error());
    if (auto s = store.tag(ref->full(), *digest); !s) fail(g, s.error());
  });

  auto* rmi = app.add_subcommand("rmi", "remove image names (and data no image uses)");
  rmi->add_option("images", names, "names or ids")->required();
  rmi->callback([&g] {
    // Containers' trash (a killed rm, a --rm run) pins layers until swept.
    (void)berth::containers({g.root, g.run_root});
    berth::ImageStore store(g.root);
    for (const auto& n : names) {
      auto removed = store.remove(n);
      if (!removed) {
        fail(g, removed.error());
        continue;
      }
      for (const auto& r : *removed) std::printf("Untagged: %s\n", r.c_str());
    }
  });

  static std::string output = "-", input = "-";
  auto* save = app.add_subcommand("save", "write images to a tar (OCI layout + docker-archive)");
  save->add_option("-o,--output", output, "file, or - for standard output")->capture_default_str();
  save->add_option("images", names, "names or ids")->required();
  save->callback([&g] {
    if (output == "-" && ::isatty(1))
      return fail(g, base::Error::msg("save: refusing to write a tar to a terminal; use -o FILE"));
    berth::ImageStore store(g.root);
    if (auto s = berth::save_images(store, names, output); !s) fail(g, s.error());
  });
  auto* load = app.add_subcommand("load", "read images from a tar made by save, docker or podman");
  load->add_option("-i,--input", input, "file, or - for standard input")->capture_default_str();
  load->callback([&g] {
    berth::ImageStore store(g.root);
    auto loaded = berth::load_images(store, input);
    if (!loaded) return fail(g, loaded.error());
    for (const auto& n : *loaded) std::printf("Loaded image: %s\n", n.c_str());
  });

  static bool prune_all = false;
  auto* image = app.add_subcommand("image", "image housekeeping");
  image->require_subcommand(1);
  auto* prune =
      image->add_subcommand("prune", "delete data no image needs (-a: and unused images)");
  prune->add_flag("-a,--all", prune_all, "also remove images no container uses");
  static bool image_force = false;
  prune->add_flag("-f,--force", image_force, "do not ask (berth never asks)");
  prune->callback([&g] {
    // Also sweeps containers' trash, which pins layers until it goes.
    auto listed = berth::containers({g.root, g.run_root});
    berth::ImageStore store(g.root);
    if (prune_all) {
      std::set<std::string> used;
      for (const auto& c : listed) used.insert(c.image_id);
      for (const auto& i : store.list()) {
        if (used.count(i.id)) continue;
        auto removed = store.remove(i.id);
        if (!removed) return fail(g, removed.error());
        for (const auto& r : *removed) std::printf("Untagged: %s\n", r.c_str());
      }
    }
    if (auto s = store.prune(); !s) fail(g, s.error());
  });
}

}  // namespace berth_cli
