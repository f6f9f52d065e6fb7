// Build commands: build, history, builder prune.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/units.h"
#include "berth/build/build_cache.h"
#include "berth/build/builder.h"
#include "berth/build/container_commit.h"
#include "berth/image/image_store.h"

namespace berth_cli {
namespace {

// NAME=VALUE, or NAME alone: the value berth's environment has (docker's
// --build-arg NAME), left out when unset.
bool split_pair(const std::string& text, const char* flag, std::map<std::string, std::string>& out,
                Globals& g) {
  size_t eq = text.find('=');
  std::string name = text.substr(0, eq);
  if (name.empty()) {
    fail(g, base::Error::msg(fmt::format("{} '{}': must be NAME=VALUE", flag, text)));
    return false;
  }
  if (eq != std::string::npos) {
    out[name] = text.substr(eq + 1);
  } else if (const char* value = ::getenv(name.c_str())) {
    out[name] = value;
  }
  return true;
}

}  // namespace

void add_build_commands(CLI::App& app, Globals& g) {
  static berth::build::BuildOptions o;
  static std::vector<std::string> build_args, labels;
  static std::string compress = "gzip";
  auto* build = app.add_subcommand("build", "make an image from a Dockerfile and its context");
  build->add_option("context", o.context, "the build context directory, or - (Dockerfile on stdin)")
      ->required();
  build->add_option("-t,--tag", o.tags, "name the image (repeatable)");
  build->add_option("-f,--file", o.dockerfile,
                    "the Dockerfile (default CONTEXT/Dockerfile; - stdin)");
  build->add_option("--build-arg", build_args, "NAME=VALUE for an ARG (repeatable)");
  build->add_option("--target", o.target, "build up to this stage");
  build->add_flag("--no-cache", o.no_cache, "run every step, reusing nothing");
  build->add_option("--pull", o.pull, "missing (default), always or never")
      ->check(CLI::IsMember({"missing", "always", "never"}));
  build->add_option("--platform", o.platform, "linux/amd64 (the only one)");
  build
      ->add_option("--network", o.network,
                   "RUN steps' network: none (default), bridge (berth0) or host")
      ->check(CLI::IsMember({"none", "bridge", "host", "default"}));
  build->add_option("--label", labels, "NAME=VALUE on the image (repeatable)")
      ->allow_extra_args(false);
  build->add_flag("-q,--quiet", o.quiet, "print only the image id");
  build->add_option("--iidfile", o.iidfile, "write the image id to this file");
  build->add_option("--compress", compress, "layer compression: gzip (default) or zstd")
      ->check(CLI::IsMember({"gzip", "zstd"}));
  build->callback([&g] {
    for (const auto& a : build_args)
      if (!split_pair(a, "--build-arg", o.build_args, g)) return;
    for (const auto& l : labels)
      if (!split_pair(l, "--label", o.labels, g)) return;
    o.compression =
        compress == "zstd" ? berth::LayerCompression::kZstd : berth::LayerCompression::kGzip;
    auto built = berth::build::build_image({g.root, g.run_root}, o, stderr);
    if (!built) return fail(g, built.error());
    std::printf("%s\n", built->image_id.c_str());
  });

  static std::string image;
  auto* history = app.add_subcommand("history", "the steps that made an image, newest first");
  history->add_option("image", image, "name or id")->required();
  history->callback([&g] {
    berth::ImageStore store(g.root);
    auto digest = store.resolve(image);
    if (!digest) return fail(g, digest.error());
    auto config = store.config(*digest);
    auto manifest = store.manifest(*digest);
    if (!config || !manifest) return fail(g, !config ? config.error() : manifest.error());
    std::vector<nlohmann::json> rows;
    const auto& layers = (*manifest)["layers"];
    size_t layer = 0;
    for (const auto& h : config->value("history", nlohmann::json::array())) {
      bool empty = h.value("empty_layer", false);
      uint64_t size = 0;
      if (!empty && layer < layers.size()) size = layers[layer++].value("size", uint64_t{0});
      rows.insert(rows.begin(), nlohmann::json{{"CreatedAt", h.value("created", "")},
                                               {"CreatedBy", h.value("created_by", "")},
                                               {"Size", base::units::bytes(size)},
                                               {"Comment", h.value("comment", "")}});
    }
    print_template(g, "table {{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", rows,
                   {{"CreatedAt", "CREATED"}, {"CreatedBy", "CREATED BY"}});
  });

  static berth::build::CommitOptions commit_options;
  static std::string container;
  auto* commit = app.add_subcommand("commit", "a container's changes as a new image");
  commit->add_option("-a,--author", commit_options.author, "the image's author");
  commit->add_option("-m,--message", commit_options.message, "a comment in its history");
  commit
      ->add_option("-c,--change", commit_options.changes,
                   "a Dockerfile instruction: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, "
                   "WORKDIR, STOPSIGNAL, VOLUME (repeatable)")
      ->allow_extra_args(false);
  commit->add_flag("-p,--pause", commit_options.pause,
                   "freeze the container while its changes are copied (default true)");
  commit->add_option("container", container, "id or name")->required();
  commit->add_option("repository", commit_options.name, "REPOSITORY[:TAG] of the new image");
  commit->callback([&g] {
    auto id = berth::build::commit_container({g.root, g.run_root}, container, commit_options);
    if (!id) return fail(g, id.error());
    std::printf("%s\n", id->c_str());
  });

  auto* builder = app.add_subcommand("builder", "the build cache");
  auto* prune =
      builder->add_subcommand("prune", "forget the build cache, and the layers only it held");
  static bool force = false;
  prune->add_flag("-f,--force", force, "do not ask (berth never asks)");
  prune->callback([&g] {
    berth::build::BuildCache cache(g.root);
    auto n = cache.clear();
    if (!n) return fail(g, n.error());
    berth::ImageStore store(g.root);
    if (auto s = store.prune(); !s) return fail(g, s.error());
    std::printf("Deleted %zu build cache entries\n", *n);
  });
}

}  // namespace berth_cli
