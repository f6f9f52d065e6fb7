// delete [--force] ID
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_delete(CLI::App& app, Globals& g) {
  static std::string id_value{};
  auto* id = &id_value;
  static bool force_value{false};
  auto* force = &force_value;
  auto* cmd = app.add_subcommand("delete", "delete a stopped (or, with --force, any) container");
  cmd->add_flag("-f,--force", *force, "kill it first if it is running");
  cmd->add_option("id", *id, "container id")->required();
  cmd->callback([&g, id, force] { report(g, oci::delete_container(g.root, *id, *force)); });
}

}  // namespace berth_oci
