// ps [--format table|json] ID — the container's processes.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "apps/berth-oci/commands.h"
#include "base/text_file.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_ps(CLI::App& app, Globals& g) {
  static std::string id_value{};
  auto* id = &id_value;
  static std::string format_value{"table"};
  auto* format = &format_value;
  auto* cmd = app.add_subcommand("ps", "list the processes in a container");
  cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("id", *id, "container id")->required();
  cmd->allow_extras();  // runc passes extra arguments to ps(1); they are ignored here
  cmd->callback([&g, id, format] {
    auto pids = oci::container_pids(g.root, *id);
    if (!pids) return fail(g, pids.error());
    if (*format == "json") {
      std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
      return;
    }
    std::printf("%-8s %s\n", "PID", "CMD");
    for (pid_t p : *pids) {
      std::string cmdline = base::read_text(fmt::format("/proc/{}/cmdline", p)).value_or("");
      for (auto& c : cmdline)
        if (c == '\0') c = ' ';
      std::printf("%-8d %s\n", p, cmdline.c_str());
    }
  });
}

}  // namespace berth_oci
