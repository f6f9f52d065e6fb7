// start ID — run the program of a created container.
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_start(CLI::App& app, Globals& g) {
  static std::string id_value{};
  auto* id = &id_value;
  auto* cmd = app.add_subcommand("start", "start a created container");
  cmd->add_option("id", *id, "container id")->required();
  cmd->callback([&g, id] { report(g, oci::start_container(g.root, *id)); });
}

}  // namespace berth_oci
