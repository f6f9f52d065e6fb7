// Image commands: import, images, tag, rmi, save, load, image prune.
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/timestamp.h"
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

// `images --filter`: reference=PATTERN (a glob on REPOSITORY or
// REPOSITORY:TAG), dangling=true|false, label=KEY[=VALUE], before=IMAGE,
// since=IMAGE; all must hold.
base::Result<std::vector<berth::ImageInfo>> filter_images(berth::ImageStore& store,
                                                          const std::vector<berth::ImageInfo>& list,
                                                          const std::vector<std::string>& filters) {
  std::vector<berth::ImageInfo> out;
  struct Filter {
    std::string key, value, created;  // created: before/since's image
  };
  std::vector<Filter> parsed;
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos)
      return base::fail_msg(fmt::format("--filter '{}': must be KEY=VALUE", f));
    Filter p{f.substr(0, eq), f.substr(eq + 1), {}};
    if (p.key == "before" || p.key == "since") {
      std::string digest = TRY_CTX(store.resolve(p.value), "--filter " + f);
      for (const auto& i : list)
        if (i.manifest_digest == digest) p.created = i.created;
    } else if (p.key == "dangling") {
      if (p.value != "true" && p.value != "false")
        return base::fail_msg(fmt::format("--filter '{}': dangling is true or false", f));
    } else if (p.key != "reference" && p.key != "label") {
      return base::fail_msg(fmt::format(
          "--filter '{}': no such filter (reference, dangling, label, before, since)", f));
    }
    parsed.push_back(std::move(p));
  }
  for (const auto& i : list) {
    bool keep = true;
    for (const auto& f : parsed) {
      if (f.key == "reference") {
        bool any = false;
        // A tag ("repo:tag") or a repository digest ("repo@sha256:..."),
        // whole or its repository, full or as docker shows it.
        std::vector<std::string> known = i.names;
        known.insert(known.end(), i.digests.begin(), i.digests.end());
        for (const auto& full : known)
          for (const std::string& n : {full, berth::familiar_name(full)}) {
            std::string repo = n.find('@') != std::string::npos ? n.substr(0, n.find('@'))
                                                                : n.substr(0, n.rfind(':'));
            any = any || ::fnmatch(f.value.c_str(), n.c_str(), 0) == 0 ||
                  ::fnmatch(f.value.c_str(), repo.c_str(), 0) == 0;
          }
        keep = keep && any;
      } else if (f.key == "dangling") {
        // Dangling: neither a tag nor a repository digest names it.
        keep = keep && (f.value == "true") == (i.names.empty() && i.digests.empty());
      } else if (f.key == "label") {
        auto config = store.config(i.manifest_digest);
        auto labels = config ? config->value("config", nlohmann::json::object())
                                   .value("Labels", nlohmann::json::object())
                             : nlohmann::json::object();
        auto eq = f.value.find('=');
        std::string key = f.value.substr(0, eq);
        keep = keep && labels.is_object() && labels.contains(key) &&
               (eq == std::string::npos || labels[key] == f.value.substr(eq + 1));
      } else if (f.key == "before") {
        keep = keep && i.created < f.created;
      } else if (f.key == "since") {
        keep = keep && i.created > f.created;
      }
    }
    if (keep) out.push_back(i);
  }
  return out;
}

}  // namespace

base::Status prune_images(Globals& g, bool all) {
  // Also sweeps containers' trash, which pins layers until it goes.
  auto listed = berth::containers({g.root, g.run_root});
  berth::ImageStore store(g.root);
  if (all) {
    std::set<std::string> used;
    for (const auto& c : listed) used.insert(c.image_id);
    for (const auto& i : store.list()) {
      if (used.count(i.id)) continue;
      auto removed = TRY(store.remove(i.id));
      for (const auto& r : removed) std::printf("Untagged: %s\n", berth::familiar_name(r).c_str());
    }
  }
  return store.prune();
}

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

  static std::vector<std::string> filters;
  auto* images = app.add_subcommand("images", "list images");
  images->add_flag("-q,--quiet", quiet, "ids only");
  static bool all_images = false;
  images->add_flag("-a,--all", all_images,
                   "accepted: berth keeps no intermediate images, so the list is the same");
  static bool digests = false;
  images->add_flag("--digests", digests, "a DIGEST column: the digest a registry knows it by");
  images->add_option("--format", format, "json, or a template: table {{.Repository}}\\t{{.ID}}");
  images
      ->add_option("-f,--filter", filters,
                   "reference=PATTERN, dangling=true|false, label=K[=V], before=, since=")
      ->allow_extra_args(false);
  images->add_option("reference", name, "only images of this repository (a pattern)");
  images->callback([&g] {
    berth::ImageStore store(g.root);
    auto list = store.list();
    std::vector<std::string> all = filters;
    if (!name.empty()) all.push_back("reference=" + name);
    auto kept = filter_images(store, list, all);
    if (!kept) return fail(g, kept.error());
    int64_t now = base::parse_rfc3339(base::now_rfc3339()).value_or(0);
    std::vector<nlohmann::json> rows;
    for (const auto& i : *kept) {
      auto created = base::parse_rfc3339(i.created);
      std::string size = base::units::go_size(static_cast<double>(i.size), false, 3);
      // One row per tag, with the digest its repository knows the image
      // by; one per repository digest without a tag ("<none>").
      auto row = [&](const std::string& repository, const std::string& tag,
                     const std::string& digest) {
        rows.push_back(
            {{"Repository", berth::familiar_name(repository)},
             {"Tag", tag},
             {"ID", short_id(i.id)},
             {"Digest", digest},
             {"CreatedAt", base::docker_time(i.created)},
             {"CreatedSince", created ? base::human_duration(now - *created) + " ago" : "N/A"},
             {"Created", i.created},
             {"Size", size},
             {"VirtualSize", size},
             {"Containers", "N/A"},
             {"SharedSize", "N/A"},
             {"UniqueSize", "N/A"}});
      };
      auto digest_of = [&](const std::string& repository) -> std::string {
        for (const auto& d : i.digests)
          if (d.substr(0, d.find('@')) == repository) return d.substr(d.find('@') + 1);
        return "<none>";
      };
      std::set<std::string> tagged;
      for (const auto& n : i.names) {
        std::string repository = n.substr(0, n.rfind(':'));
        tagged.insert(repository);
        row(repository, n.substr(n.rfind(':') + 1), digest_of(repository));
      }
      for (const auto& d : i.digests)
        if (!tagged.count(d.substr(0, d.find('@'))))
          row(d.substr(0, d.find('@')), "<none>", d.substr(d.find('@') + 1));
      if (i.names.empty() && i.digests.empty()) row("<none>", "<none>", "<none>");
    }
    std::sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return std::tie(b["Created"], a["Repository"], a["Tag"]) <
             std::tie(a["Created"], b["Repository"], b["Tag"]);  // newest first, then by name
    });
    if (quiet && format.empty()) {  // one line per image, not per name; --format wins, as docker's
      rows.clear();
      for (const auto& i : *kept) rows.push_back({{"ID", short_id(i.id)}});
    }
    std::string fmt =
        !format.empty() ? format
        : quiet         ? "{{.ID}}"
        : digests
            ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
            : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    print_template(g, fmt, rows,
                   {{"ID", "IMAGE ID"}, {"CreatedAt", "CREATED AT"}, {"CreatedSince", "CREATED"}});
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
    if (!ref->digest.empty())  // only a pull or a push knows a registry's digest
      return fail(g, base::Error::msg(fmt::format(
                         "refusing to create a tag with a digest reference: {}", target)));
    if (auto s = store.tag(ref->full(), *digest); !s) return fail(g, s.error());
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
      for (const auto& r : *removed) std::printf("Untagged: %s\n", berth::familiar_name(r).c_str());
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
    if (auto s = prune_images(g, prune_all); !s) fail(g, s.error());
  });
}

}  // namespace berth_cli
