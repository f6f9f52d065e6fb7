// stats: each running container's CPU, memory, network, block I/O and
// processes, as docker stats shows them, from the cgroup figures berth-oci
// reads (v1 and v2) and the container's own /proc/PID/net/dev.
//   --no-stream: one table; otherwise a new table every second.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/text_file.h"
#include "base/units.h"
#include "berth/container/containers.h"
#include "oci/lifecycle.h"

namespace berth_cli {
namespace {

using nlohmann::json;

// go-units' CustomSize: 4 digits of binary units, 3 of decimal ones.
std::string sized(double bytes, bool binary) {
  return base::units::go_size(bytes, binary, binary ? 4 : 3);
}

// All CPUs' time since boot, in nanoseconds (/proc/stat's first line).
uint64_t system_cpu_ns() {
  std::istringstream in(base::read_text("/proc/stat").value_or(""));
  std::string cpu;
  uint64_t total = 0, v = 0;
  in >> cpu;
  for (int i = 0; i < 8 && in >> v; ++i) total += v;
  return total * (1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
}

uint64_t host_memory() {
  std::istringstream in(base::read_text("/proc/meminfo").value_or(""));
  std::string key;
  uint64_t kb = 0;
  in >> key >> kb;  // MemTotal: N kB
  return kb * 1024;
}

// Bytes received and sent on the container's interfaces but lo.
std::pair<uint64_t, uint64_t> net_io(int pid) {
  std::istringstream in(base::read_text(fmt::format("/proc/{}/net/dev", pid)).value_or(""));
  std::string line;
  uint64_t rx = 0, tx = 0;
  for (int n = 0; std::getline(in, line); ++n) {
    auto colon = line.find(':');
    if (n < 2 || colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t f[9] = {};
    for (auto& x : f) fields >> x;
    rx += f[0];
    tx += f[8];
  }
  return {rx, tx};
}

uint64_t number_at(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* k : path) {
    if (!at->is_object() || !at->contains(k)) return 0;
    at = &(*at)[k];
  }
  return at->is_number_unsigned() ? at->get<uint64_t>()
         : at->is_number()        ? static_cast<uint64_t>(at->get<double>())
                                  : 0;
}

struct Sample {
  uint64_t cpu = 0, system = 0;
  json data;
};

json row(const berth::ContainerRecord& c, const Sample& before, const Sample& now, int cpus) {
  const json& d = now.data;
  double cpu = 0;
  if (now.system > before.system && now.cpu >= before.cpu)
    cpu = static_cast<double>(now.cpu - before.cpu) /
          static_cast<double>(now.system - before.system) * cpus * 100.0;
  // docker's usage: without the page cache it could drop (v1 total_inactive_file, v2
  // inactive_file).
  uint64_t usage = number_at(d, {"memory", "usage", "usage"});
  uint64_t inactive = number_at(d, {"memory", "raw", "total_inactive_file"});
  if (!inactive) inactive = number_at(d, {"memory", "raw", "inactive_file"});
  if (inactive < usage) usage -= inactive;
  uint64_t limit = number_at(d, {"memory", "usage", "limit"});
  uint64_t host = host_memory();
  if (limit == 0 || limit > host) limit = host;
  auto [rx, tx] = net_io(c.pid);
  uint64_t read = 0, written = 0;
  if (d.contains("blkio") && d["blkio"].contains("ioServiceBytesRecursive"))
    for (const auto& e : d["blkio"]["ioServiceBytesRecursive"]) {
      std::string op = e.value("op", "");
      if (op == "Read" || op == "read") read += number_at(e, {"value"});
      if (op == "Write" || op == "write") written += number_at(e, {"value"});
    }
  return {{"Container", c.id.substr(0, 12)},
          {"ID", c.id},
          {"Name", c.name},
          {"CPUPerc", fmt::format("{:.2f}%", cpu)},
          {"MemUsage", sized(static_cast<double>(usage), true) + " / " +
                           sized(static_cast<double>(limit), true)},
          {"MemPerc", fmt::format("{:.2f}%", limit ? 100.0 * static_cast<double>(usage) /
                                                         static_cast<double>(limit)
                                                   : 0.0)},
          {"NetIO",
           sized(static_cast<double>(rx), false) + " / " + sized(static_cast<double>(tx), false)},
          {"BlockIO", sized(static_cast<double>(read), false) + " / " +
                          sized(static_cast<double>(written), false)},
          {"PIDs", number_at(d, {"pids", "current"})}};
}

}  // namespace

void add_stats_command(CLI::App& app, Globals& g) {
  static std::vector<std::string> targets;
  static std::string format;
  static bool no_stream = false, all = false;
  auto* stats = app.add_subcommand("stats", "containers' CPU, memory, network, block I/O, pids");
  stats->add_option("containers", targets, "ids or names (default: every running one)");
  stats->add_flag("--no-stream", no_stream, "one table, then exit");
  stats->add_flag("-a,--all", all, "containers that are not running too");
  stats->add_option("--format", format, "a template: table {{.Name}}\\t{{.CPUPerc}}");
  stats->callback([&g] {
    berth::Paths p{g.root, g.run_root};
    std::vector<berth::ContainerRecord> chosen;
    if (targets.empty()) {
      for (auto& c : berth::containers(p))
        if (all || c.state == "running") chosen.push_back(std::move(c));
    } else {
      for (const auto& t : targets) {
        auto c = berth::find_container(g.root, t);
        if (!c) return fail(g, c.error());
        chosen.push_back(std::move(*c));
      }
    }
    int cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    auto sample = [&](const berth::ContainerRecord& c) {
      Sample s;
      s.system = system_cpu_ns();
      if (c.state != "running") return s;
      auto st = oci::container_stats(g.run_root, c.id);
      if (st) s.data = (*st)["data"];
      s.cpu = number_at(s.data, {"cpu", "usage", "total"});
      return s;
    };
    std::vector<Sample> before;
    before.reserve(chosen.size());
    for (const auto& c : chosen) before.push_back(sample(c));
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // docker's interval
      std::vector<json> rows;
      for (size_t i = 0; i < chosen.size(); ++i) {
        Sample now = sample(chosen[i]);
        rows.push_back(row(chosen[i], before[i], now, cpus));
        before[i] = std::move(now);
      }
      if (!no_stream) std::fputs("\033[2J\033[H", stdout);  // docker's redraw
      print_template(g,
                     format.empty() ? "table {{.Container}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}"
                                      "\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
                                    : format,
                     rows,
                     {{"Container", "CONTAINER ID"},
                      {"CPUPerc", "CPU %"},
                      {"MemUsage", "MEM USAGE / LIMIT"},
                      {"MemPerc", "MEM %"},
                      {"NetIO", "NET I/O"},
                      {"BlockIO", "BLOCK I/O"}});
      std::fflush(stdout);
      if (no_stream || g.exit_code != 0) return;
    }
  });
}

}  // namespace berth_cli
