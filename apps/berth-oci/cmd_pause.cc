// pause ID / resume ID — freeze and thaw every process in the container's cgroup.
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_pause_resume(CLI::App& app, Globals& g) {
  for (bool pause : {true, false}) {
    static std::string id_value{};
    auto* id = &id_value;
    auto* cmd = app.add_subcommand(pause ? "pause" : "resume",
                                   pause ? "freeze a container" : "thaw a container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&g, id, pause] { report(g, oci::pause_container(g.root, *id, pause)); });
  }
}

}  // namespace berth_oci
