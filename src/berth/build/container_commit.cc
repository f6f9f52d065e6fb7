#include "berth/build/container_commit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/timestamp.h"
#include "berth/build/stage_image.h"
#include "berth/container/container_changes.h"
#include "berth/container/containers.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_packer.h"
#include "berth/image/layer_writer.h"
#include "berth/image/reference.h"
#include "berth/image/tree_copy.h"
#include "oci/lifecycle.h"

namespace berth::build {
namespace {

using nlohmann::json;

// A running container frozen for as long as the guard lives.
class Frozen {
 public:
  static base::Result<Frozen> freeze(const Paths& p, const ContainerRecord& rec) {
    if (rec.state != "running" || is_paused(p, rec)) return Frozen({}, {});
    TRY_STATUS(oci::pause_container(p.run_root, rec.id, true));
    return Frozen(p.run_root, rec.id);
  }
  Frozen(Frozen&& o) noexcept : run_root_(std::move(o.run_root_)), id_(std::move(o.id_)) {
    o.id_.clear();
  }
  Frozen& operator=(Frozen&&) = delete;
  ~Frozen() {
    if (!id_.empty()) (void)oci::pause_container(run_root_, id_, false);
  }

 private:
  Frozen(std::string run_root, std::string id)
      : run_root_(std::move(run_root)), id_(std::move(id)) {}
  std::string run_root_, id_;
};

// Deletes from the copy at `root` (private to us) every entry below `rel`
// that is not one of the container's changes, nor holds one; returns
// whether anything is left there.
base::Result<bool> keep_changes(const std::string& root, const std::string& rel,
                                const std::set<std::string>& keep,
                                const std::set<std::string>& holders) {
  bool any = false;
  base::UniqueFd dir = TRY(base::sys::open(root + rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  for (const auto& name : TRY(base::list_dir(dir.get(), root + rel))) {
    std::string path = fmt::format("{}/{}", rel, name);
    struct stat st = TRY(base::sys::fstatat(dir.get(), name, AT_SYMLINK_NOFOLLOW, path));
    bool kept = keep.count(path) > 0;
    if (S_ISDIR(st.st_mode) && (kept || holders.count(path))) {
      bool left = TRY(keep_changes(root, path, keep, holders));
      if (kept || left) {
        any = true;
        continue;
      }
    } else if (kept) {
      any = true;
      continue;
    }
    TRY_STATUS(base::remove_tree(root + path));
  }
  return any;
}

// "CMD ["a","b"]" or "CMD a b" (the shell form): the words.
json command_words(const std::string& rest) {
  auto parsed = json::parse(rest, nullptr, false);
  if (parsed.is_array()) {
    bool strings = true;
    for (const auto& w : parsed) strings = strings && w.is_string();
    if (strings) return parsed;
  }
  return json::array({"/bin/sh", "-c", rest});
}

base::Status apply_change(json& settings, const std::string& change) {
  auto space = change.find_first_of(" \t");
  std::string word = change.substr(0, space);
  std::string rest =
      space == std::string::npos ? "" : change.substr(change.find_first_not_of(" \t", space));
  for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto key_value = [&](const char* field) -> base::Status {
    auto eq = rest.find('=');
    auto sp = rest.find(' ');
    size_t at = eq != std::string::npos ? eq : sp;
    if (at == std::string::npos || at == 0)
      return base::fail_msg(fmt::format("--change '{}': {} needs KEY=VALUE", change, word));
    std::string key = rest.substr(0, at), value = rest.substr(at + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (std::string(field) == "Env") {
      json env = json::array();
      for (const auto& e : settings.value("Env", json::array()))
        if (e.is_string() && e.get<std::string>().rfind(key + "=", 0) != 0) env.push_back(e);
      env.push_back(key + "=" + value);
      settings["Env"] = env;
    } else {
      settings[field][key] = value;
    }
    return {};
  };
  if (rest.empty())
    return base::fail_msg(fmt::format("--change '{}': {} needs a value", change, word));
  if (word == "CMD") {
    settings["Cmd"] = command_words(rest);
  } else if (word == "ENTRYPOINT") {
    settings["Entrypoint"] = command_words(rest);
  } else if (word == "ENV") {
    return key_value("Env");
  } else if (word == "LABEL") {
    return key_value("Labels");
  } else if (word == "USER") {
    settings["User"] = rest;
  } else if (word == "WORKDIR") {
    settings["WorkingDir"] = rest;
  } else if (word == "STOPSIGNAL") {
    settings["StopSignal"] = rest;
  } else if (word == "EXPOSE") {
    settings["ExposedPorts"][rest.find('/') == std::string::npos ? rest + "/tcp" : rest] =
        json::object();
  } else if (word == "VOLUME") {
    for (const auto& v : rest.front() == '[' ? command_words(rest) : json::array({rest}))
      if (v.is_string()) settings["Volumes"][v.get<std::string>()] = json::object();
  } else {
    return base::fail_msg(fmt::format(
        "--change '{}': {} cannot be changed (CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, "
        "WORKDIR, STOPSIGNAL, VOLUME)",
        change, word));
  }
  return {};
}

}  // namespace

base::Result<std::string> commit_container(const Paths& p, const std::string& container,
                                           const CommitOptions& o) {
  if (o.name.empty())
    return base::fail_msg("commit: a REPOSITORY[:TAG] is required (berth keeps named images only)");
  Reference ref = TRY(parse_reference(o.name));
  ContainerRecord rec = TRY(find_container(p.root, container));
  for (const auto& rec_now : containers(p))
    if (rec_now.id == rec.id) rec = rec_now;  // its state as of now
  ImageStore store(p.root);
  StageImage image = TRY(stored_image(store, rec.image_id));
  json& settings = image.settings();
  for (const char* field : {"Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels",
                            "ExposedPorts", "Volumes", "StopSignal"})
    if (rec.config.contains(field) && !rec.config[field].is_null())
      settings[field] = rec.config[field];
  for (const auto& change : o.changes) TRY_STATUS(apply_change(settings, change));

  std::string dir = container_dir(p.root, rec.id);
  TRY_STATUS(base::make_dirs(p.root + "/build"));
  auto staging = TRY(base::OwnedDir::make(p.root + "/build", "commit-"));
  {
    std::optional<Frozen> frozen;
    if (o.pause) frozen.emplace(TRY(Frozen::freeze(p, rec)));
    auto changes = TRY(container_changes(dir));
    std::set<std::string> keep, holders;
    for (const auto& c : changes) {
      keep.insert(c.path);
      for (auto slash = c.path.rfind('/'); slash != 0 && slash != std::string::npos;
           slash = c.path.rfind('/', slash - 1))
        holders.insert(c.path.substr(0, slash));
    }
    base::UniqueFd upper =
        TRY(base::sys::open(dir + "/upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    LayerWriter w = TRY(LayerWriter::open(staging.path()));
    TRY_STATUS(copy_tree(upper.get(), w, "", "the container's changes"));
    TRY_STATUS(w.finish());
    TRY(keep_changes(staging.path(), "", keep, holders));
  }
  PackedLayer layer = TRY(pack_layer(store, staging.path(), o.compression));
  std::string created_by = o.message.empty() ? "berth commit " + rec.name : o.message;
  image.add_layer(layer, store.layers().path(layer.diff_id), created_by, base::now_rfc3339());
  if (!o.author.empty()) image.config["author"] = o.author;
  if (!o.message.empty()) image.config["history"].back()["comment"] = o.message;
  std::string id;
  std::string manifest = TRY(write_image(store, image, id));
  TRY_STATUS(store.tag(ref.full(), manifest));
  return id;
}

}  // namespace berth::build
