// events [--stats] [--interval SECONDS] ID — resource usage as runc's JSON
// events: once with --stats, else every interval until the container stops.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_events(CLI::App& app, Globals& g) {
  static std::string id;
  static bool stats = false;
  static double interval = 5;
  auto* cmd = app.add_subcommand("events", "print resource usage of a container");
  cmd->add_flag("--stats", stats, "print once and exit");
  cmd->add_option("--interval", interval, "seconds between events")
      ->check(CLI::Range(0.01, 86400.0));
  cmd->add_option("id", id, "container id")->required();
  cmd->callback([&g] {
    for (;;) {
      auto s = oci::container_stats(g.root, id);
      if (!s) {
        if (stats) fail(g, s.error());
        return;  // the container stopped: the stream ends
      }
      std::printf("%s\n", s->dump().c_str());
      std::fflush(stdout);
      if (stats) return;
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    }
  });
}

}  // namespace berth_oci
