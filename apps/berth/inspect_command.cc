// inspect: containers, images and volumes as `docker inspect` shows them: a JSON
// array of one object per name (containers first, as docker looks them up),
// or each through a --format template.
#include <cstdio>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "berth/container/containers.h"
#include "berth/container/volumes.h"
#include "berth/image/image_inspect.h"

namespace berth_cli {

void add_inspect_command(CLI::App& app, Globals& g) {
  static std::vector<std::string> targets;
  static std::string format, type;
  auto* inspect = app.add_subcommand(
      "inspect", "containers and images as docker inspect shows them (docker's schema)");
  inspect->add_option("targets", targets, "containers or images: names or ids")->required();
  inspect->add_option("-f,--format", format,
                      "a Go template: {{.State.Status}}, {{json .Config}}, {{range .Mounts}}..");
  inspect->add_option("--type", type, "container, image or volume (default: any)");
  inspect->callback([&g] {
    if (!type.empty() && type != "container" && type != "image" && type != "volume")
      return fail(
          g, base::Error::msg(fmt::format("--type {}: must be container, image or volume", type)));
    std::vector<nlohmann::json> found;
    berth::ImageStore store(g.root);
    for (const auto& t : targets) {
      if (type.empty() || type == "container")
        if (auto c = berth::inspect_container({g.root, g.run_root}, t)) {
          found.push_back(std::move(*c));
          continue;
        }
      if (type.empty() || type == "image")
        if (auto i = berth::inspect_image(store, t)) {
          found.push_back(std::move(*i));
          continue;
        }
      if (type.empty() || type == "volume")
        if (auto v = berth::find_volume(g.root, t)) {
          found.push_back(berth::volume_json(*v));
          continue;
        }
      // docker's words, after the rest are shown.
      std::fprintf(stderr, "berth: no such %s: %s\n", type.empty() ? "object" : type.c_str(),
                   t.c_str());
      g.exit_code = 1;
    }
    print_inspected(g, format, std::move(found));
  });
}

}  // namespace berth_cli
