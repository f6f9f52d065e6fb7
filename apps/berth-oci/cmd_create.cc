// create [--bundle B] [--pid-file F] [--console-socket S] [--no-pivot] [--no-new-keyring]
// [--preserve-fds N] ID
#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

// Options shared by create and run.
void add_create_options(CLI::App* cmd, oci::CreateOptions& o) {
  cmd->add_option("-b,--bundle", o.bundle, "bundle directory (holds config.json)");
  cmd->add_option("--pid-file", o.pid_file, "write the container's pid here");
  cmd->add_option("--console-socket", o.console_socket, "unix socket that receives the pty master");
  cmd->add_flag("--no-pivot", o.no_pivot, "use MS_MOVE + chroot instead of pivot_root");
  static bool no_new_keyring = false;  // berth-oci never creates a session keyring
  cmd->add_flag("--no-new-keyring", no_new_keyring, "accepted for runc compatibility");
  cmd->add_option("--preserve-fds", o.preserve_fds, "pass N fds after stdio into the container")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("id", o.id, "container id")->required();
}

void add_create(CLI::App& app, Globals& g) {
  static oci::CreateOptions o_value{};
  auto* o = &o_value;
  auto* cmd = app.add_subcommand("create", "create a container; it waits for `start`");
  add_create_options(cmd, *o);
  cmd->callback([&g, o] {
    o->root = g.root;
    auto r = oci::create_container(*o);
    if (!r) fail(g, r.error());
  });
}

}  // namespace berth_oci
