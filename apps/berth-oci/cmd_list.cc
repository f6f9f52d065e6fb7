// list [--format table|json] [--quiet]
#include <cstdio>

#include <fmt/format.h>

#include "apps/berth-oci/commands.h"
#include "oci/lifecycle.h"

namespace berth_oci {

void add_list(CLI::App& app, Globals& g) {
  static std::string format_value{"table"};
  auto* format = &format_value;
  static bool quiet_value{false};
  auto* quiet = &quiet_value;
  auto* cmd = app.add_subcommand("list", "list containers");
  cmd->alias("ls");
  cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  cmd->add_flag("-q,--quiet", *quiet, "ids only");
  cmd->callback([&g, format, quiet] {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& id : oci::list_ids(g.root))
      if (auto s = oci::container_state(g.root, id)) all.push_back(*s);
    if (*format == "json") {
      std::printf("%s\n", all.dump().c_str());
      return;
    }
    if (*quiet) {
      for (const auto& s : all) std::printf("%s\n", s["id"].get<std::string>().c_str());
      return;
    }
    std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                "OWNER");
    for (const auto& s : all)
      std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", s["id"].get<std::string>().c_str(),
                  s["pid"].get<int>(), s["status"].get<std::string>().c_str(),
                  s["bundle"].get<std::string>().c_str(), s["created"].get<std::string>().c_str(),
                  s["owner"].get<std::string>().c_str());
  });
}

}  // namespace berth_oci
