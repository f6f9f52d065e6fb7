#include "berth/container/container_record.h"

#include <filesystem>

#include <fmt/format.h>

#include "base/text_file.h"

namespace berth {

std::string containers_dir(const std::string& root) {
  return root + "/containers";
}
std::string container_dir(const std::string& root, const std::string& id) {
  return containers_dir(root) + "/" + id;
}

base::Status parse_restart_policy(const std::string& text, ContainerRecord& rec) {
  if (text == "no" || text == "always" || text == "on-failure") {
    rec.restart = text;
    rec.restart_max = 0;
    return {};
  }
  if (text.rfind("on-failure:", 0) == 0) {
    std::string n = text.substr(11);
    if (!n.empty() && n.size() < 6 && n.find_first_not_of("0123456789") == std::string::npos) {
      rec.restart = "on-failure";
      rec.restart_max = std::stoi(n);
      return {};
    }
  }
  return base::fail_msg(
      fmt::format("--restart '{}': expected no, always, on-failure or on-failure:N", text));
}

base::Status save_container(const std::string& root, const ContainerRecord& r) {
  nlohmann::json j = {
      {"Id", r.id},
      {"Name", r.name},
      {"Image", r.image},
      {"ImageId", r.image_id},
      {"Command", r.command},
      {"Created", r.created},
      {"State", r.state},
      {"ExitCode", r.exit_code},
      {"OOMKilled", r.oom_killed},
      {"Pid", r.pid},
      {"MonitorPid", r.monitor_pid},
      {"Finished", r.finished},
      {"AutoRemove", r.auto_remove},
      {"Interactive", r.interactive},
      {"Tty", r.tty},
      {"RestartPolicy", {{"Name", r.restart}, {"MaximumRetryCount", r.restart_max}}},
      {"RestartCount", r.restart_count},
      {"StopRequested", r.stop_requested},
      {"Started", r.started},
      {"Labels", r.labels},
      {"StopSignal", r.stop_signal},
      {"StopTimeout", r.stop_timeout},
      {"DockerConfig", r.config},
      {"HostConfig", r.host_config},
      {"Mounts", r.mounts},
      {"Network", r.network}};
  // Labels and commands may hold bytes that are not UTF-8: replaced, never a throw.
  return base::replace_file(container_dir(root, r.id) + "/container.json",
                            j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

base::Result<ContainerRecord> load_container(const std::string& root, const std::string& id) {
  std::string text = TRY(base::read_text(container_dir(root, id) + "/container.json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  ContainerRecord r;
  try {
    r.id = j.at("Id");
    r.name = j.at("Name");
    r.image = j.at("Image");
    r.image_id = j.at("ImageId");
    r.command = j.at("Command").get<std::vector<std::string>>();
    r.created = j.at("Created");
    r.state = j.at("State");
    r.exit_code = j.at("ExitCode");
    r.pid = j.at("Pid");
    r.monitor_pid = j.at("MonitorPid");
    r.finished = j.at("Finished");
    r.auto_remove = j.at("AutoRemove");
    r.network = j.at("Network");
    // Fields added later read as their defaults in older records.
    r.interactive = j.value("Interactive", false);
    r.tty = j.value("Tty", false);
    if (j.contains("RestartPolicy")) {
      r.restart = j["RestartPolicy"].value("Name", "no");
      r.restart_max = j["RestartPolicy"].value("MaximumRetryCount", 0);
    }
    r.restart_count = j.value("RestartCount", 0);
    r.oom_killed = j.value("OOMKilled", false);
    r.stop_requested = j.value("StopRequested", false);
    r.started = j.value("Started", "");
    r.labels = j.value("Labels", std::map<std::string, std::string>{});
    r.stop_signal = j.value("StopSignal", "SIGTERM");
    r.stop_timeout = j.value("StopTimeout", 10);
    r.config = j.value("DockerConfig", nlohmann::json::object());
    r.host_config = j.value("HostConfig", nlohmann::json::object());
    r.mounts = j.value("Mounts", nlohmann::json::array());
  } catch (const nlohmann::json::exception&) {
    return base::fail_msg(fmt::format("container {}: record is damaged", id.substr(0, 12)));
  }
  return r;
}

std::vector<ContainerRecord> list_containers(const std::string& root) {
  std::vector<ContainerRecord> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(containers_dir(root), ec))
    if (e.path().filename().string()[0] != '.')  // .removing-<id>: a --rm container going away
      if (auto r = load_container(root, e.path().filename())) out.push_back(std::move(*r));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.created > b.created; });
  return out;
}

base::Result<ContainerRecord> find_container(const std::string& root,
                                             const std::string& id_or_name) {
  std::vector<ContainerRecord> matches;
  for (auto& r : list_containers(root)) {
    if (r.name == id_or_name || r.id == id_or_name) return r;
    if (id_or_name.size() >= 1 && r.id.rfind(id_or_name, 0) == 0) matches.push_back(r);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.size() > 1)
    return base::fail_msg(fmt::format("container id prefix '{}' is ambiguous", id_or_name));
  return base::fail_msg(fmt::format("no such container: {}", id_or_name));
}

}  // namespace berth
