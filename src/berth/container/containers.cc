#include "berth/container/containers.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/openat2.h>

#include "base/timestamp.h"
#include "base/file_lock.h"
#include "base/dirs.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "berth/container/container_network.h"
#include "berth/image/image_store.h"
#include "berth/container/monitor.h"
#include "oci/lifecycle.h"
#include "oci/state.h"

namespace berth {
namespace {

bool alive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// kill(2) of a recorded process: never pid 0 or -1 from a damaged record,
// which would signal our own process group or every process we may signal.
void signal_process(pid_t pid, int sig) {
  if (pid > 0) (void)base::sys::kill(pid, sig);
}

// Whether the monitor recorded in a --rm container's trash is still at work.
bool alive_monitor_of(const Paths& p, const std::string& id) {
  std::string text =
      base::read_text(containers_dir(p.root) + "/.removing-" + id + "/container.json").value_or("");
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("MonitorPid") && j["MonitorPid"].is_number_integer() &&
         alive(j["MonitorPid"].get<int>());
}

// Whether the container's monitor (or, for a --rm container being deleted,
// the monitor at work on it) is alive.
bool monitor_alive(const Paths& p, const std::string& id) {
  auto rec = load_container(p.root, id);
  return rec ? alive(rec->monitor_pid) : alive_monitor_of(p, id);
}

// Network attachments nobody holds: made by a `berth run`/`start` killed
// before its monitor ran, or left by a monitor that died. Each is detached.
void sweep_network_attachments(const Paths& p) {
  Networks networks(p.root);
  for (const auto& n : networks.list()) {
    networks.remove_stale_temporaries(n.name);
    for (const auto& a : networks.attachments(n.name))
      if (!alive(a.owner_pid) && !monitor_alive(p, a.container_id))
        (void)detach_network({p.root, p.run_root}, a.container_id);
  }
}

// A running record whose monitor is gone is exited (exit status unknown: -1).
ContainerRecord reconcile(const Paths& p, ContainerRecord r) {
  if (r.state == "running" && !alive(r.monitor_pid)) {
    r.state = "exited";
    r.exit_code = -1;
    r.pid = 0;
    (void)detach_network({p.root, p.run_root}, r.id);  // its veth, address and rules
    (void)save_container(p.root, r);
  }
  return r;
}

// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 128
// long, so a name can never forge a row of `ps` or a path.
base::Status check_name(const std::string& name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = !name.empty() && name.size() <= 128 && word(name[0]) &&
            std::all_of(name.begin(), name.end(),
                        [&](char c) { return word(c) || c == '_' || c == '.' || c == '-'; });
  if (ok) return {};
  return base::fail_msg(fmt::format(
      "--name {}: a name is letters, digits, '_', '.' and '-', starting with a letter or digit "
      "(at most 128)",
      nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// "no", "always", "on-failure" or "on-failure:N".
base::Status parse_restart(const std::string& text, ContainerRecord& rec) {
  if (text == "no" || text == "always" || text == "on-failure") {
    rec.restart = text;
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

// An image's /etc/passwd and /etc/group are small; a bigger one is refused.
constexpr size_t kMaxImageUserFile = size_t{1} << 20;

// The image's file at `path` ("etc/passwd"), from the topmost layer that has
// it, read beneath that layer's directory: no symlink in the image reaches
// a host file, and a device or FIFO is refused. "" when no layer has it or
// a layer deleted it (an overlay whiteout).
base::Result<std::string> image_file(const std::vector<std::string>& layers,
                                     const std::string& path) {
  std::string what = "the image's /" + path;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    base::UniqueFd layer = TRY(base::sys::open(*it, O_PATH | O_DIRECTORY));
    auto text = base::read_regular_beneath(layer.get(), path, kMaxImageUserFile, what);
    if (text) return text;
    // A whiteout (a 0:0 device) means a layer above the rest deleted it.
    auto entry = base::sys::openat2(layer.get(), path, O_PATH | O_NOFOLLOW, 0,
                                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, what);
    auto st = entry ? base::sys::fstat(entry->get(), what) : base::fail(entry.error());
    if (st && S_ISCHR(st->st_mode) && st->st_rdev == 0) return std::string();
    if (text.error().code() != ENOENT) return text;
  }
  return std::string();
}

// Writes the container's files and bundle (nothing is mounted yet).
base::Status prepare(const Paths& p, const RunOptions& o, const std::string& id,
                     ContainerRecord& rec) {
  ImageStore images(p.root);
  std::string manifest = TRY(images.resolve(o.image));
  auto image_config = TRY(images.config(manifest));
  std::string dir = container_dir(p.root, id);
  for (const char* sub : {"bundle/rootfs", "upper", "work"})
    TRY_STATUS(base::make_dirs(dir + "/" + sub));
  std::string hostname = o.hostname.empty() ? id.substr(0, 12) : o.hostname;
  TRY_STATUS(base::replace_file(dir + "/hostname", hostname + "\n"));
  TRY_STATUS(base::replace_file(
      dir + "/hosts",
      fmt::format("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{}\n", hostname)));
  std::string resolv = base::read_text("/etc/resolv.conf").value_or("");
  TRY_STATUS(base::replace_file(dir + "/resolv.conf", o.network == "host" ? resolv : ""));
  rec.network = TRY(plan_network({p.root, p.run_root}, o, image_config));
  for (const char* f : {"hostname", "hosts", "resolv.conf"}) ::chmod((dir + "/" + f).c_str(), 0644);
  auto layers = TRY(images.layer_dirs(manifest));
  SpecPaths paths{dir + "/bundle/rootfs", dir + "/hosts", dir + "/hostname", dir + "/resolv.conf"};
  if (rec.network["mode"] == "bridge") paths.netns = netns_path({p.root, p.run_root}, id);
  if (auto passwd = image_file(layers, "etc/passwd"))
    paths.passwd = *passwd;
  else
    paths.passwd_error = passwd.error().message();
  if (auto group = image_file(layers, "etc/group"))
    paths.group = *group;
  else
    paths.group_error = group.error().message();
  auto spec = TRY(make_spec(o, image_config, id, paths));
  TRY_STATUS(base::replace_file(dir + "/bundle/config.json", spec.dump(2)));
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + *it;
  TRY_STATUS(base::replace_file(dir + "/lowerdirs", lower));
  rec.image_id = TRY(images.manifest(manifest))["config"]["digest"];
  rec.command = spec["process"]["args"].get<std::vector<std::string>>();
  return save_container(p.root, rec);
}

// Mounts the overlay root (idempotent: a mounted root is left as it is).
base::Status mount_root(const Paths& p, const std::string& id) {
  std::string dir = container_dir(p.root, id);
  std::string rootfs = dir + "/bundle/rootfs";
  std::string lower = TRY(base::read_text(dir + "/lowerdirs"));
  for (size_t start = 0; start <= lower.size();) {
    size_t colon = lower.find(':', start);
    std::string layer =
        lower.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (::access(layer.c_str(), F_OK) != 0)
      return base::fail_msg(
          fmt::format("container {}: its image layer {} is gone (was the image removed?)",
                      id.substr(0, 12), layer));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::string data = fmt::format("lowerdir={},upperdir={}/upper,workdir={}/work", lower, dir, dir);
  ::umount2(rootfs.c_str(), MNT_DETACH);  // a stale mount from a monitor that died
  if (::mount("overlay", rootfs.c_str(), "overlay", 0, data.c_str()) != 0)
    return base::fail(base::Error::sys(errno, "mount overlay", rootfs));
  return {};
}

void discard(const std::string& dir) {
  ::umount2((dir + "/bundle/rootfs").c_str(), MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

std::vector<ContainerRecord> containers(const Paths& p) {
  // What a monitor killed while deleting a --rm container left behind.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(containers_dir(p.root), ec)) {
    std::string name = e.path().filename();
    if (name.rfind(".removing-", 0) == 0 && !alive_monitor_of(p, name.substr(10)))
      std::filesystem::remove_all(e.path(), ec);
  }
  std::vector<ContainerRecord> out;
  for (auto& r : list_containers(p.root)) out.push_back(reconcile(p, std::move(r)));
  sweep_network_attachments(p);
  return out;
}

base::Result<std::string> create_container(const Paths& p, const RunOptions& o) {
  std::string id = TRY(base::sys::random_hex(32));
  TRY_STATUS(base::make_dirs(containers_dir(p.root)));
  ContainerRecord rec;
  rec.id = id;
  rec.image = o.image;
  rec.created = base::now_rfc3339();
  rec.auto_remove = o.remove;
  rec.interactive = o.interactive;
  rec.tty = o.tty;
  TRY_STATUS(parse_restart(o.restart, rec));
  if (rec.auto_remove && rec.restart != "no")
    return base::fail_msg("--rm and --restart cannot be used together");
  {
    auto lock = TRY(base::FileLock::acquire(p.root + "/containers.lock"));
    rec.name = o.name.empty() ? "berth_" + id.substr(0, 8) : o.name;
    TRY_STATUS(check_name(rec.name));
    for (const auto& other : list_containers(p.root))
      if (other.name == rec.name)
        return base::fail_msg(fmt::format("the name '{}' is already in use", rec.name));
    TRY_STATUS(base::make_dirs(container_dir(p.root, id)));
    TRY_STATUS(save_container(p.root, rec));
  }
  if (auto s = prepare(p, o, id, rec); !s) {
    discard(container_dir(p.root, id));
    return base::fail(std::move(s).error());
  }
  return id;
}

base::Result<int> start_container(const Paths& p, const std::string& id_or_name, bool attach) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  if (rec.state == "running")
    return base::fail_msg(fmt::format("container {} is already running", rec.name));
  std::string id = rec.id;
  std::string dir = container_dir(p.root, id);
  {
    auto lock = TRY(base::FileLock::acquire(dir + "/lock"));
    // What a monitor that died left of the runtime container (state, cgroup) goes first.
    (void)oci::delete_container(p.run_root, id, true);
    rec.stop_requested = false;
    rec.started = base::now_rfc3339();
    TRY_STATUS(mount_root(p, id));
    if (rec.network.value("mode", "") == "container") {
      if (auto s = join_network_of({p.root, p.run_root}, rec, dir); !s) {
        ::umount2((dir + "/bundle/rootfs").c_str(), MNT_DETACH);
        return base::fail(std::move(s).error());
      }
    }
    if (rec.network.value("mode", "") == "bridge") {
      auto a = attach_network({p.root, p.run_root}, id, rec.name, rec.network, dir);
      if (!a) {
        ::umount2((dir + "/bundle/rootfs").c_str(), MNT_DETACH);
        return base::fail(std::move(a).error());
      }
      rec.network["address"] = a->address;
    }
    TRY_STATUS(save_container(p.root, rec));
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return base::fail(base::Error::sys(errno, "pipe", "monitor"));
  pid_t child = ::fork();
  if (child < 0) return base::fail(base::Error::sys(errno, "fork", "monitor"));
  if (child == 0) {
    ::close(ready[0]);
    MonitorOptions mo{p.root, p.run_root, id, attach, ready[1]};
    if (!attach) {  // a daemon: its own session, not our child
      ::setsid();
      if (::fork() != 0) ::_exit(0);
      int null_fd = ::open("/dev/null", O_RDWR);
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
    }
    ::_exit(run_monitor(mo));
  }
  ::close(ready[1]);
  // The first line: "ok", or why the container did not start.
  std::string reply;
  char buf[4096];
  auto read_more = [&] {
    for (;;) {
      ssize_t n = ::read(ready[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) reply.append(buf, static_cast<size_t>(n));
      return n > 0;
    }
  };
  while (reply.find('\n') == std::string::npos && read_more()) {
  }
  if (!attach) ::waitpid(child, nullptr, 0);
  if (reply.rfind("ok\n", 0) != 0) {
    while (read_more()) {
    }
    ::close(ready[0]);
    if (attach) ::waitpid(child, nullptr, 0);
    ::umount2((dir + "/bundle/rootfs").c_str(), MNT_DETACH);
    (void)detach_network({p.root, p.run_root}, id);
    while (!reply.empty() && reply.back() == '\n') reply.pop_back();
    return base::fail_msg(reply.empty() ? "the container's monitor failed" : reply);
  }
  if (!attach) {
    ::close(ready[0]);
    return 0;
  }
  // Attached: Ctrl-C reaches the monitor too (same process group); it forwards it.
  // The monitor says "exit N" once the container is gone; it may still be
  // deleting a --rm container's files, which needs no waiting for.
  ::signal(SIGINT, SIG_IGN);
  reply.erase(0, 3);
  while (reply.find('\n') == std::string::npos && read_more()) {
  }
  ::close(ready[0]);
  if (reply.rfind("exit ", 0) == 0) return std::atoi(reply.c_str() + 5);
  int status = 0;  // the monitor died without a word
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}

base::Result<int> run_container(const Paths& p, const RunOptions& o, std::string* id_out) {
  std::string id = TRY(create_container(p, o));
  if (id_out) *id_out = id;
  auto started = start_container(p, id, !o.detach);
  if (!started) {
    // A run that never started leaves nothing: no record, mount or directory.
    discard(container_dir(p.root, id));
    return base::fail(std::move(started).error());
  }
  return *started;
}

base::Status request_stop(const Paths& p, const std::string& id) {
  auto lock = TRY(base::FileLock::acquire(container_dir(p.root, id) + "/lock"));
  ContainerRecord rec = TRY(load_container(p.root, id));
  rec.stop_requested = true;
  return save_container(p.root, rec);
}

base::Result<std::vector<std::string>> prune_containers(const Paths& p) {
  std::vector<std::string> removed;
  for (const auto& rec : containers(p)) {
    if (rec.state == "running") continue;
    TRY_STATUS(remove_container(p, rec.id, false));
    removed.push_back(rec.id);
  }
  return removed;
}

base::Status stop_container(const Paths& p, const std::string& id_or_name, int timeout_seconds) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  if (rec.state != "running") return {};
  if (rec.pid <= 0)
    return base::fail_msg(
        fmt::format("container {}: its record names no process (pid {}), so it was not stopped",
                    rec.name, rec.pid));
  TRY_STATUS(request_stop(p, rec.id));
  signal_process(rec.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = load_container(p.root, rec.id);
    if (!now || now->state != "running" || !alive(rec.monitor_pid)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  signal_process(rec.pid, SIGKILL);
  for (int i = 0; i < 1000 && alive(rec.monitor_pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return {};
}

base::Status remove_container(const Paths& p, const std::string& id_or_name, bool force) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  if (rec.state == "running") {
    if (!force)
      return base::fail_msg(
          fmt::format("container {} is running: stop it first, or use --force", rec.name));
    TRY_STATUS(stop_container(p, rec.id, 0));
  }
  std::string dir = container_dir(p.root, rec.id);
  ::umount2((dir + "/bundle/rootfs").c_str(), MNT_DETACH);
  (void)oci::delete_container(p.run_root, rec.id, true);
  (void)detach_network({p.root, p.run_root}, rec.id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return base::fail(base::Error::sys(ec.value(), "remove", dir));
  return {};
}

base::Result<std::vector<LogLine>> read_logs(const Paths& p, const std::string& id_or_name,
                                             uint64_t* offset) {
  ContainerRecord rec = TRY(find_container(p.root, id_or_name));
  std::string text = base::read_text(container_dir(p.root, rec.id) + "/log").value_or("");
  std::vector<LogLine> out;
  size_t start = offset ? std::min<size_t>(*offset, text.size()) : 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // a line still being written
    auto j = nlohmann::json::parse(text.substr(start, nl - start), nullptr, false);
    if (j.is_object())
      out.push_back({j.value("stream", "stdout"), j.value("time", ""), j.value("log", "")});
    start = nl + 1;
  }
  if (offset) *offset = start;
  return out;
}

base::Result<nlohmann::json> inspect_container(const Paths& p, const std::string& id_or_name) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  std::string dir = container_dir(p.root, rec.id);
  auto record =
      nlohmann::json::parse(TRY(base::read_text(dir + "/container.json")), nullptr, false);
  auto config =
      nlohmann::json::parse(TRY(base::read_text(dir + "/bundle/config.json")), nullptr, false);
  record["Config"] = config;
  record["LogPath"] = dir + "/log";
  return record;
}

}  // namespace berth
