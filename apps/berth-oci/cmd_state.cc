// state ID — runc's state JSON.
#include <cstdio>

#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_state(CLI::App& app, Globals& g) {
  static std::string id_value{};
  auto* id = &id_value;
  auto* cmd = app.add_subcommand("state", "print a container's state as JSON");
  cmd->add_option("id", *id, "container id")->required();
  cmd->callback([&g, id] {
    auto s = oci::container_state(g.root, *id);
    if (!s) return fail(g, s.error());
    std::printf("%s\n", s->dump(2).c_str());
  });
}

}  // namespace berth_oci
