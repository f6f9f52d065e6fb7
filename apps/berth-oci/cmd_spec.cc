// spec [--bundle B] [--rootless] — write a default config.json (never overwrites).
#include <fcntl.h>
#include <unistd.h>

#include "apps/berth-oci/commands.h"
#include "base/sys.h"
#include "oci/default_spec.h"

namespace berth_oci {

void add_spec(CLI::App& app, Globals& g) {
  static std::string bundle = ".";
  static bool rootless = false;
  auto* cmd = app.add_subcommand("spec", "write a default config.json");
  cmd->add_option("-b,--bundle", bundle, "directory to write it in");
  cmd->add_flag("--rootless", rootless, "for a container run by an unprivileged user");
  cmd->callback([&g] {
    std::string path = bundle + "/config.json";
    auto fd = base::sys::open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!fd) {
      if (fd.error().code() == EEXIST)
        return fail(g, base::Error::msg(path + ": already exists; not overwritten"));
      return fail(g, fd.error());
    }
    std::string text = oci::default_spec(rootless, ::geteuid(), ::getegid()).dump(2) + "\n";
    report(g, base::sys::write_all(fd->get(), text.data(), text.size(), path));
  });
}

}  // namespace berth_oci
