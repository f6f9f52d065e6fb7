// run [create options] [--detach] ID — create, start, wait, delete.
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_create_options(CLI::App* cmd, oci::CreateOptions& o);

void add_run(CLI::App& app, Globals& g) {
  static oci::CreateOptions o_value{};
  auto* o = &o_value;
  static bool detach_value{false};
  auto* detach = &detach_value;
  auto* cmd = app.add_subcommand("run", "create and start a container, and wait for it");
  add_create_options(cmd, *o);
  cmd->add_flag("-d,--detach", *detach, "return once started");
  static bool keep = false;
  cmd->add_flag("--keep", keep, "accepted for runc compatibility");
  cmd->callback([&g, o, detach] {
    o->root = g.root;
    auto r = oci::run_container(*o, *detach);
    if (!r) return fail(g, r.error());
    g.exit_code = *r;
  });
}

}  // namespace berth_oci
