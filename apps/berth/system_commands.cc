// The engine as a whole: version, info (system info), system df, system prune.
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "base/dirs.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "base/units.h"
#include "berth/build/build_cache.h"
#include "berth/container/containers.h"
#include "berth/container/events.h"
#include "berth/container/volumes.h"
#include "berth/image/image_store.h"
#include "berth/image/manifest.h"
#include "berth/output_template.h"

namespace berth_cli {
namespace {

using nlohmann::json;

std::string os_arch() {
  return "linux/" + berth::host_platform().architecture;
}

// /etc/os-release's PRETTY_NAME, as docker shows the host.
std::string operating_system() {
  std::istringstream in(base::read_text_capped("/etc/os-release", 64 << 10).value_or(""));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  return "Linux";
}

json version_json() {
  json engine = {{"Version", SHIPYARD_VERSION},
                 {"ApiVersion", "berth"},
                 {"Os", "linux"},
                 {"Arch", berth::host_platform().architecture}};
  json server = engine;
  server["Components"] = {{{"Name", "Engine"}, {"Version", SHIPYARD_VERSION}},
                          {{"Name", "berth-oci"}, {"Version", SHIPYARD_VERSION}}};
  return {{"Client", engine}, {"Server", server}};
}

json info_json(Globals& g) {
  auto listed = berth::containers({g.root, g.run_root});
  int running = 0, paused = 0, stopped = 0;
  for (const auto& c : listed) {
    if (c.state != "running") {
      ++stopped;
    } else if (berth::is_paused({g.root, g.run_root}, c)) {
      ++paused;
    } else {
      ++running;
    }
  }
  struct utsname u {};
  (void)::uname(&u);
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  uint64_t memory = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  bool v2 = base::path_exists("/sys/fs/cgroup/cgroup.controllers");
  return {{"Containers", listed.size()},
          {"ContainersRunning", running},
          {"ContainersPaused", paused},
          {"ContainersStopped", stopped},
          {"Images", berth::ImageStore(g.root).list().size()},
          {"Driver", "overlay"},
          {"DockerRootDir", g.root},
          {"ServerVersion", SHIPYARD_VERSION},
          {"CgroupDriver", "cgroupfs"},
          {"CgroupVersion", v2 ? "2" : "1"},
          {"DefaultRuntime", "berth-oci"},
          {"KernelVersion", u.release},
          {"OperatingSystem", operating_system()},
          {"OSType", "linux"},
          {"Architecture", u.machine},
          {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"MemTotal", memory},
          {"Name", host}};
}

// docker's RECLAIMABLE: the size, and its share of the total when there is one.
std::string reclaimable(uint64_t part, uint64_t total, bool percent) {
  std::string text = base::units::go_size(static_cast<double>(part), false, 4);
  if (percent && total > 0) text += fmt::format(" ({}%)", part * 100 / total);
  return text;
}

std::vector<json> disk_usage(Globals& g) {
  berth::Paths p{g.root, g.run_root};
  auto listed = berth::containers(p);
  std::set<std::string> used_images, used_volumes = berth::volumes_in_use(listed);
  uint64_t container_size = 0, idle_size = 0;
  int running = 0;
  for (const auto& c : listed) {
    used_images.insert(c.image_id);
    uint64_t size = base::tree_size(berth::container_dir(g.root, c.id) + "/upper").value_or(0);
    container_size += size;
    if (c.state == "running") {
      ++running;
    } else {
      idle_size += size;
    }
  }
  berth::ImageStore store(g.root);
  auto images = store.list();
  uint64_t image_size = 0, unused_size = 0;
  int active_images = 0;
  for (const auto& i : images) {
    image_size += i.size;
    if (used_images.count(i.id)) {
      ++active_images;
    } else {
      unused_size += i.size;
    }
  }
  auto volumes = berth::list_volumes(g.root);
  uint64_t volume_size = 0, idle_volumes = 0;
  for (const auto& v : volumes) {
    uint64_t size = base::tree_size(v.mountpoint).value_or(0);
    volume_size += size;
    if (!used_volumes.count(v.name)) idle_volumes += size;
  }
  size_t cache_entries = 0;
  if (auto dir = base::sys::open(g.root + "/build-cache", O_RDONLY | O_DIRECTORY))
    if (auto names = base::list_dir(dir->get(), "build-cache")) cache_entries = names->size();
  uint64_t cache_size = base::tree_size(g.root + "/build-cache").value_or(0);
  auto row = [](const char* type, size_t total, size_t active, uint64_t size,
                const std::string& free) {
    return json{{"Type", type},
                {"TotalCount", std::to_string(total)},
                {"Active", std::to_string(active)},
                {"Size", base::units::go_size(static_cast<double>(size), false, 4)},
                {"Reclaimable", free}};
  };
  return {
      row("Images", images.size(), active_images, image_size,
          reclaimable(unused_size, image_size, true)),
      row("Containers", listed.size(), running, container_size,
          reclaimable(idle_size, container_size, true)),
      row("Local Volumes", volumes.size(), used_volumes.size(), volume_size,
          reclaimable(idle_volumes, volume_size, true)),
      row("Build Cache", cache_entries, 0, cache_size, reclaimable(cache_size, cache_size, false))};
}

// `events --filter`: type, event (the action), container, image, volume,
// label; several values of one key are alternatives, keys must all hold.
base::Result<bool> event_matches(const json& e, const std::vector<std::string>& filters) {
  std::map<std::string, std::vector<std::string>> wanted;
  for (const auto& f : filters) {
    auto eq = f.find('=');
    std::string key = f.substr(0, eq);
    if (eq == std::string::npos || (key != "type" && key != "event" && key != "container" &&
                                    key != "image" && key != "volume" && key != "label"))
      return base::fail_msg(fmt::format(
          "--filter '{}': KEY=VALUE with type, event, container, image, volume or label", f));
    wanted[key].push_back(f.substr(eq + 1));
  }
  auto actor = e.value("Actor", json::object());
  auto attributes = actor.value("Attributes", json::object());
  std::string type = e.value("Type", ""), id = actor.value("ID", "");
  for (const auto& [key, values] : wanted) {
    bool any = false;
    for (const auto& v : values) {
      if (key == "type") any = any || type == v;
      if (key == "event") any = any || e.value("Action", "") == v;
      if (key == "container" || key == "volume")
        any = any || (type == key && (id.rfind(v, 0) == 0 || attributes.value("name", "") == v));
      if (key == "image") any = any || attributes.value("image", "") == v;
      if (key == "label") {
        auto leq = v.find('=');
        std::string k = v.substr(0, leq);
        any = any || (attributes.contains(k) &&
                      (leq == std::string::npos || attributes[k] == v.substr(leq + 1)));
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

void add_system_commands(CLI::App& app, Globals& g) {
  static std::string format;
  static std::string since, until;
  static std::vector<std::string> event_filters;
  auto* events = app.add_subcommand("events", "what happened to containers and volumes, live");
  events->add_option("--since", since, "from then on (2026-12-07T10:00:00Z, 10m, a Unix time)");
  events->add_option("--until", until, "up to then, and stop there");
  events
      ->add_option("-f,--filter", event_filters,
                   "type=, event=, container=, image=, volume=, label= (repeatable)")
      ->allow_extra_args(false);
  events->add_option("--format", format, "a template: {{.Type}} {{.Action}} {{.Actor.ID}}, json");
  events->callback([&g] {
    auto now = [] {
      return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()) /
             1e9;
    };
    double start = now();
    auto range = time_range(since, until, start);
    if (!range) return fail(g, range.error());
    std::optional<double> from = range->since, to = range->until;
    if (!from) from = start;  // docker's: what happens from now on
    std::optional<berth::OutputTemplate> shape;
    if (!format.empty()) {
      auto parsed = berth::OutputTemplate::parse(format == "json" ? "{{json .}}" : format, {});
      if (!parsed) return fail(g, parsed.error());
      shape.emplace(std::move(*parsed));
    }
    if (auto ok = event_matches(json::object(), event_filters); !ok) return fail(g, ok.error());
    berth::EventCursor cursor;
    for (;;) {
      for (const auto& e : berth::read_events(g.root, cursor)) {
        double at = static_cast<double>(e.value("timeNano", int64_t{0})) / 1e9;
        if (at < *from || (to && at > *to)) continue;
        auto ok = event_matches(e, event_filters);
        if (!ok) return fail(g, ok.error());
        if (!*ok) continue;
        if (shape) {
          auto text = shape->render({e});
          if (!text) return fail(g, text.error());
          std::fputs(text->c_str(), stdout);
        } else {
          std::printf("%s\n", berth::event_line(e).c_str());
        }
      }
      std::fflush(stdout);
      if (to && now() > *to) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  auto* version = app.add_subcommand("version", "berth's version, as docker version shows it");
  version->add_option("-f,--format", format, "a template: {{.Server.Version}}");
  version->callback([&g] {
    json v = version_json();
    if (!format.empty()) return print_template(g, format, {v});
    std::printf(
        "Client:\n Version:           %s\n OS/Arch:           %s\n\n"
        "Server: berth (no daemon)\n Engine:\n  Version:          %s\n  OS/Arch:          %s\n"
        " berth-oci:\n  Version:          %s\n",
        SHIPYARD_VERSION, os_arch().c_str(), SHIPYARD_VERSION, os_arch().c_str(), SHIPYARD_VERSION);
  });

  auto show_info = [&g] {
    json i = info_json(g);
    if (!format.empty()) return print_template(g, format, {i});
    std::printf("Server:\n Containers: %d\n  Running: %d\n  Paused: %d\n  Stopped: %d\n",
                i["Containers"].get<int>(), i["ContainersRunning"].get<int>(),
                i["ContainersPaused"].get<int>(), i["ContainersStopped"].get<int>());
    std::printf(" Images: %d\n Server Version: %s\n Storage Driver: overlay\n",
                i["Images"].get<int>(), SHIPYARD_VERSION);
    std::printf(" Cgroup Driver: cgroupfs\n Cgroup Version: %s\n Default Runtime: berth-oci\n",
                i["CgroupVersion"].get<std::string>().c_str());
    std::printf(" Kernel Version: %s\n Operating System: %s\n OSType: linux\n",
                i["KernelVersion"].get<std::string>().c_str(),
                i["OperatingSystem"].get<std::string>().c_str());
    std::printf(" Architecture: %s\n CPUs: %d\n Total Memory: %s\n Name: %s\n",
                i["Architecture"].get<std::string>().c_str(), i["NCPU"].get<int>(),
                base::units::go_size(i["MemTotal"].get<double>(), true, 4).c_str(),
                i["Name"].get<std::string>().c_str());
    std::printf(" Docker Root Dir: %s\n", g.root.c_str());
  };
  auto* info = app.add_subcommand("info", "the engine: containers, images, host");
  info->add_option("-f,--format", format, "a template: {{.CgroupVersion}}");
  info->callback(show_info);

  auto* system = app.add_subcommand("system", "the engine: info, df, prune");
  system->require_subcommand(1);
  auto* system_info = system->add_subcommand("info", "as `berth info`");
  system_info->add_option("-f,--format", format, "a template: {{.CgroupVersion}}");
  system_info->callback(show_info);

  auto* df = system->add_subcommand("df", "disk used by images, containers, volumes, cache");
  df->add_option("--format", format, "a template: {{.Type}} {{.Size}}");
  df->callback([&g] {
    print_template(g,
                   format.empty() ? "table {{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}"
                                    "\\t{{.Reclaimable}}"
                                  : format,
                   disk_usage(g), {{"TotalCount", "TOTAL"}});
  });

  static bool all = false, volumes = false, force = false;
  auto* prune = system->add_subcommand(
      "prune", "stopped containers, dangling images and the build cache (and more, asked)");
  prune->add_flag("-a,--all", all, "every image no container uses");
  prune->add_flag("--volumes", volumes, "volumes no container uses");
  prune->add_flag("-f,--force", force, "do not ask (berth never asks)");
  prune->callback([&g] {
    auto removed = berth::prune_containers({g.root, g.run_root});
    if (!removed) return fail(g, removed.error());
    std::printf("Deleted Containers:\n");
    for (const auto& id : *removed) std::printf("%s\n", id.c_str());
    if (volumes) {
      auto gone = berth::prune_volumes(g.root);
      if (!gone) return fail(g, gone.error());
      std::printf("\nDeleted Volumes:\n");
      for (const auto& n : *gone) std::printf("%s\n", n.c_str());
    }
    berth::build::BuildCache cache(g.root);
    auto entries = cache.clear();
    if (!entries) return fail(g, entries.error());
    if (auto s = prune_images(g, all); !s) return fail(g, s.error());
    std::printf("\nDeleted build cache entries: %zu\n", *entries);
  });
}

}  // namespace berth_cli
