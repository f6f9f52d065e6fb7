#include "oci/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "base/process_identity.h"
#include "base/text_file.h"
#include "oci/cgroup.h"

namespace oci {

const char* status_name(Status s) {
  switch (s) {
    case Status::kCreating:
      return "creating";
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      return "stopped";
  }
  return "unknown";
}

base::Status check_id(const std::string& id) {
  if (id.empty()) return base::fail_msg("container id: must not be empty");
  if (id.size() > 1024) return base::fail_msg("container id: longer than 1024 characters");
  if (id == "." || id == "..")
    return base::fail_msg(fmt::format("container id '{}': not allowed", id));
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
        c != '+')
      return base::fail_msg(
          fmt::format("container id '{}': only letters, digits and _ . + - are allowed", id));
  return {};
}

std::string container_dir(const std::string& root, const std::string& id) {
  return root + "/" + id;
}
std::string fifo_path(const std::string& root, const std::string& id) {
  return container_dir(root, id) + "/exec.fifo";
}

base::Status save_record(const std::string& root, const ContainerRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"bundle", r.bundle},
                      {"rootfs", r.rootfs},
                      {"created", r.created},
                      {"owner", r.owner},
                      {"ociVersion", r.oci_version},
                      {"pid", r.pid},
                      {"startTime", r.start_time},
                      {"annotations", r.annotations},
                      {"cgroup", r.cgroup},
                      {"hasPoststart", r.has_poststart_hooks},
                      {"hasPoststop", r.has_poststop_hooks},
                      {"sharedMountNs", r.shared_mount_ns}};
  return base::replace_file(container_dir(root, r.id) + "/state.json", j.dump());
}

base::Result<ContainerRecord> load_record(const std::string& root, const std::string& id) {
  TRY_STATUS(check_id(id));
  auto text = base::read_text(container_dir(root, id) + "/state.json");
  if (!text) {
    if (text.error().code() == ENOENT)
      return base::fail_msg(fmt::format("container {} does not exist", id));
    return base::fail(std::move(text).error());
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  ContainerRecord r;
  try {
    r.id = j.at("id");
    r.bundle = j.at("bundle");
    r.rootfs = j.at("rootfs");
    r.created = j.at("created");
    r.owner = j.at("owner");
    r.oci_version = j.at("ociVersion");
    r.pid = j.at("pid");
    r.start_time = j.at("startTime");
    r.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    r.cgroup = j.at("cgroup");
    r.has_poststart_hooks = j.value("hasPoststart", true);
    r.has_poststop_hooks = j.value("hasPoststop", false);
    r.shared_mount_ns = j.value("sharedMountNs", "");
  } catch (const nlohmann::json::exception&) {
    return base::fail_msg(fmt::format("container {}: state file is damaged", id));
  }
  return r;
}

std::vector<std::string> list_ids(const std::string& root) {
  std::vector<std::string> out;
  DIR* d = ::opendir(root.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && check_id(name) &&
        ::access(fmt::format("{}/{}/state.json", root, name).c_str(), F_OK) == 0)
      out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool init_alive(const ContainerRecord& r) {
  return base::ProcessIdentity{r.pid, r.start_time}.alive();
}

Status current_status(const std::string& root, const ContainerRecord& r) {
  if (!init_alive(r)) return Status::kStopped;
  if (::access(fifo_path(root, r.id).c_str(), F_OK) == 0) return Status::kCreated;
  if (auto cg = Cgroup::from_json(r.cgroup); cg && cg->frozen()) return Status::kPaused;
  return Status::kRunning;
}

nlohmann::json state_json(const ContainerRecord& r, Status s) {
  nlohmann::json j = {{"ociVersion", r.oci_version},
                      {"id", r.id},
                      {"pid", s == Status::kStopped ? 0 : r.pid},
                      {"status", status_name(s)},
                      {"bundle", r.bundle},
                      {"rootfs", r.rootfs},
                      {"created", r.created},
                      {"owner", r.owner}};
  if (!r.annotations.empty()) j["annotations"] = r.annotations;
  return j;
}

}  // namespace oci
