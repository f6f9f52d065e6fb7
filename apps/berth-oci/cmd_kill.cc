// kill [--all] ID [SIGNAL] — SIGNAL by name (KILL, SIGKILL) or number; default TERM.
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"
#include "oci/names.h"

namespace berth_oci {

void add_kill(CLI::App& app, Globals& g) {
  static std::string id_value{};
  auto* id = &id_value;
  static std::string signal_value{"TERM"};
  auto* signal = &signal_value;
  static bool all_value{false};
  auto* all = &all_value;
  auto* cmd =
      app.add_subcommand("kill", "send a signal to a container's init (or all its processes)");
  cmd->add_flag("-a,--all", *all, "signal every process in the container");
  cmd->add_option("id", *id, "container id")->required();
  cmd->add_option("signal", *signal, "signal name or number");
  cmd->callback([&g, id, signal, all] {
    auto sig = oci::signal_from_name(*signal);
    if (!sig) return fail(g, sig.error());
    report(g, oci::kill_container(g.root, *id, *sig, *all));
  });
}

}  // namespace berth_oci
