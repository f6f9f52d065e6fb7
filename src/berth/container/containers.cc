#include "berth/container/containers.h"

#include <linux/openat2.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "base/child_process.h"
#include "base/dirs.h"
#include "base/fault_injection.h"
#include "base/file_lock.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "berth/container/container_handle.h"
#include "berth/container/container_mounts.h"
#include "berth/container/container_network.h"
#include "berth/container/container_resources.h"
#include "berth/container/docker_view.h"
#include "berth/container/events.h"
#include "berth/container/health.h"
#include "berth/container/monitor.h"
#include "berth/container/volumes.h"
#include "berth/image/image_store.h"
#include "berth/network/port_mapping.h"
#include "oci/lifecycle.h"
#include "oci/names.h"
#include "oci/sync_socket.h"

namespace berth {
namespace {

std::string trash_dir(const Paths& p, const std::string& id) {
  return containers_dir(p.root) + "/.removing-" + id;
}

// Deletes a container's files: first out of sight (a rename to
// .removing-<id>, so a kill at any moment leaves either the whole container
// or trash that the next command finishes), then the files.
base::Status remove_files(const Paths& p, const std::string& id) {
  std::string trash = trash_dir(p, id);
  TRY_STATUS(base::inject("rm.files"));
  TRY_STATUS(base::sys::renameat(AT_FDCWD, container_dir(p.root, id), AT_FDCWD, trash));
  return base::remove_tree(trash);
}

// What killed commands left in containers/, deleted after whatever it
// still holds is taken back: trash whose monitor is gone (a --rm
// container's, or a killed `rm`'s), and a directory that never got its
// record (a `create` killed before writing it). The name lock keeps out a
// create between making a directory and locking it.
void sweep_leftovers(const Paths& p) {
  std::error_code ec;
  std::optional<base::FileLock> names;
  for (const auto& e : std::filesystem::directory_iterator(containers_dir(p.root), ec)) {
    std::string name = e.path().filename();
    if (name.rfind(".removing-", 0) == 0) {
      if (!monitor_alive(e.path()) && release_host_resources(p, name.substr(10), e.path()))
        (void)base::remove_tree(e.path());
      continue;
    }
    if (base::path_exists(e.path() / "container.json")) continue;
    if (!names) {
      auto l = base::FileLock::acquire(p.root + "/containers.lock");
      if (!l) return;
      names.emplace(std::move(*l));
    }
    auto h = ContainerHandle::lock_without_record(p.root, name);
    if (h && !base::path_exists(e.path() / "container.json") &&
        release_host_resources(p, name, e.path()))
      (void)remove_files(p, name);
  }
}

// Roots left mounted by a `run`/`start` killed before its monitor ran:
// mounted, yet the container is not running and no monitor is at work.
// Unmounted under the container's lock (a start in progress holds it).
void sweep_root_mounts(const Paths& p, const std::vector<ContainerRecord>& records) {
  std::string mounts = base::read_text("/proc/self/mountinfo").value_or("");
  for (const auto& r : records) {
    std::string dir = container_dir(p.root, r.id);
    if (r.state == "running" || mounts.find(" " + dir + "/bundle/rootfs ") == std::string::npos)
      continue;
    auto h = ContainerHandle::lock(p.root, r.id);
    if (h && h->record().state != "running" && !monitor_alive(dir)) (void)release_root(dir);
  }
}

// Network attachments nobody holds: made by a `berth run`/`start` killed
// before its monitor ran, or left by a monitor that died. Each is detached,
// under its container's lock (a start in progress holds it).
void sweep_network_attachments(const Paths& p) {
  Networks networks(p.root);
  networks.remove_stale_definition_temporaries();
  for (const auto& n : networks.list()) {
    networks.remove_stale_temporaries(n.name);
    for (const auto& a : networks.attachments(n.name)) {
      std::string dir = container_dir(p.root, a.container_id);
      if (monitor_alive(dir) || monitor_alive(trash_dir(p, a.container_id))) continue;
      auto h = ContainerHandle::lock_without_record(p.root, a.container_id);
      if (h && monitor_alive(dir)) continue;  // started while we waited for the lock
      (void)release_network(p, a.container_id);
    }
  }
}

// A running record whose monitor is gone is exited (exit status unknown:
// -1), and what the container held is taken back.
ContainerRecord reconcile(const Paths& p, ContainerRecord r) {
  std::string dir = container_dir(p.root, r.id);
  if (r.state != "running" || monitor_alive(dir)) return r;
  auto h = ContainerHandle::lock(p.root, r.id);
  if (!h) return r;
  ContainerRecord& now = h->record();
  if (now.state == "running" && !monitor_alive(dir)) {
    (void)release_host_resources(p, now.id, dir);
    now.state = "exited";
    now.exit_code = -1;
    now.pid = 0;
    (void)h->save();
  }
  return now;
}

// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 128
// long, so a name can never forge a row of `ps` or a path.
base::Status check_name(const std::string& name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = name.size() >= 2 && name.size() <= 128 && word(name[0]) &&
            std::all_of(name.begin(), name.end(),
                        [&](char c) { return word(c) || c == '_' || c == '.' || c == '-'; });
  if (ok) return {};
  return base::fail_msg(fmt::format(
      "--name {}: not a valid container name: a name is letters, digits, '_', '.' and '-', "
      "starting with a letter or digit "
      "(2 to 128, as docker's)",
      nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// A hostname or domain name as the kernel and /etc/hosts take it: RFC 1123
// labels (letters, digits, '-'), dot-separated, 64 bytes at most; never a
// space or a newline that would add a line of its own to /etc/hosts.
base::Status check_host_name(const std::string& name, std::string_view flag) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '.' && name.back() != '.' &&
            name.front() != '-' && name.find("..") == std::string::npos;
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  if (ok) return {};
  return base::fail_msg(fmt::format(
      "{} {}: not a valid host name: letters, digits, '-' and '.', at most 64", flag,
      nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// Writes the container's files and bundle (nothing is mounted yet).
base::Status prepare(const Paths& p, const RunOptions& o, ContainerHandle& h) {
  ContainerRecord& rec = h.record();
  const std::string& id = rec.id;
  TRY_STATUS(base::inject("create.files"));
  ImageStore images(p.root);
  std::string manifest = TRY(images.resolve(o.image));
  auto image_config = TRY(images.config(manifest));
  TRY_STATUS(add_exposed_ports(image_config, o.expose));
  std::string dir = container_dir(p.root, id);
  for (const char* sub : {"bundle/rootfs", "upper", "work"})
    TRY_STATUS(base::make_dirs(dir + "/" + sub));
  std::string hostname = o.hostname.empty() ? id.substr(0, 12) : o.hostname;
  TRY_STATUS(base::replace_file(dir + "/hostname", hostname + "\n"));
  rec.network = TRY(plan_network({p.root, p.run_root}, o, image_config));
  TRY_STATUS(base::replace_file(dir + "/hosts", hosts_text("", hostname, rec.network)));
  std::string resolv = o.network == "host" ? base::read_text("/etc/resolv.conf").value_or("") : "";
  TRY_STATUS(base::replace_file(dir + "/resolv.conf",
                                resolv_conf_text(resolv, o.network == "host", "", rec.network)));
  for (const char* f : {"hostname", "hosts", "resolv.conf"})
    TRY_STATUS(base::sys::fchmodat(AT_FDCWD, dir + "/" + f, 0644));
  auto layers = TRY(images.layer_dirs(manifest));
  SpecPaths paths{dir + "/bundle/rootfs", dir + "/hosts", dir + "/hostname", dir + "/resolv.conf"};
  if (rec.network["mode"] == "bridge") paths.netns = netns_path({p.root, p.run_root}, id);
  read_accounts(layers, paths);
  // Held (its volumes lock) until the record that names the volumes is saved.
  MountPlan mounts = TRY(plan_mounts(p.root, o, image_config));
  paths.mounts = mounts.oci;
  rec.mounts = mounts.docker;
  RunOptions with_tmpfs = o;
  for (auto& t : mounts.tmpfs) with_tmpfs.tmpfs.push_back(std::move(t));
  auto spec = TRY(make_spec(with_tmpfs, image_config, id, paths));
  TRY_STATUS(base::replace_file(dir + "/bundle/config.json", spec.dump(2)));
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + *it;
  TRY_STATUS(base::replace_file(dir + "/lowerdirs", lower));
  rec.image_id = TRY(images.manifest(manifest))["config"]["digest"];
  rec.command = spec["process"]["args"].get<std::vector<std::string>>();
  rec.config = docker_config(o, image_config, spec);
  if (auto hc = TRY(health_config(o, image_config)); !hc.is_null()) rec.config["Healthcheck"] = hc;
  rec.host_config = docker_host_config(o, rec.network.value("ports", nlohmann::json::array()));
  return h.save();
}

// The monitor's process: it starts with nothing of ours but its channel
// (as fd 3) and stdio; detached, it is a daemon in a session of its own.
int monitor_process(const Paths& p, const std::string& id, bool attach, int channel) {
  if (!base::sys::dup2(channel, 3) || !base::sys::close_range(4, ~0U, 0)) return 125;
  // A reader of ours that goes away is an EPIPE to handle, never our death.
  ::signal(SIGPIPE, SIG_IGN);
  if (!attach) {
    if (!base::sys::setsid()) return 125;
    auto daemon = base::sys::fork();
    if (!daemon) return 125;
    if (*daemon != 0) return 0;  // the daemon is the grandchild
    auto null_fd = base::sys::open("/dev/null", O_RDWR);
    if (!null_fd) return 125;
    for (int fd = 0; fd < 3; ++fd) (void)base::sys::dup2(null_fd->get(), fd);
  }
  return run_monitor({p.root, p.run_root, id, attach, 3});
}

// The start itself, under the container's lock: root mounted, network
// attached, monitor running, each undone by its guard if a later step
// fails; then the record says running and the monitor owns them all.
// Returns the channel to the monitor (attached: it will say "exit").
base::Result<base::UniqueFd> start_locked(const Paths& p, ContainerHandle& h, bool attach) {
  ContainerRecord& rec = h.record();
  const std::string& dir = h.dir();
  // What a monitor that died left (runtime state, cgroup, mount, network) goes first.
  TRY_STATUS(release_host_resources(p, rec.id, dir));
  RootMount root = TRY(RootMount::mount(dir, rec.id));
  TRY_STATUS(fill_volumes(p.root, rec.mounts, dir + "/bundle/rootfs"));
  NetworkLease network = TRY(NetworkLease::take(p, rec, dir));
  auto [ours, theirs] = TRY(base::sys::socketpair(AF_UNIX, SOCK_SEQPACKET));
  TRY_STATUS(base::inject("start.monitor"));
  std::string id = rec.id;
  base::ChildProcess monitor = TRY(base::ChildProcess::fork(
      [&, fd = theirs.get()] { return monitor_process(p, id, attach, fd); }));
  theirs.reset();
  if (!attach) (void)monitor.wait();  // the daemon's parent, gone at once
  auto said = oci::receive_message(ours.get());
  if (!said) return base::fail_msg("the container's monitor ended before it started the container");
  if (said->first != "running") return base::fail_msg(said->second);
  // The container runs: from here the monitor, not our guards, takes it all
  // back if we fail. We never wait for it while holding the lock it needs:
  // an early return closes `ours`, the monitor sees the end, kills the
  // container and cleans up once our caller drops the lock.
  root.release();
  network.release();
  monitor.release();  // attached, it may still be deleting a --rm container's files at our exit
  rec.state = "running";
  if (std::sscanf(said->second.c_str(), "%d %d", &rec.pid, &rec.monitor_pid) != 2 || rec.pid <= 0 ||
      rec.monitor_pid <= 0)
    return base::fail_msg("the container's monitor sent no process ids");
  rec.exit_code = 0;
  rec.stop_requested = false;
  rec.started = base::now_rfc3339();
  TRY_STATUS(base::inject("start.record"));
  TRY_STATUS(h.save());
  TRY_STATUS(oci::send_message(ours.get(), "go"));
  record_container_event(p.root, rec, "start");
  return std::move(ours);
}

}  // namespace

std::vector<ContainerRecord> containers(const Paths& p) {
  sweep_leftovers(p);
  std::vector<ContainerRecord> out;
  for (auto& r : list_containers(p.root)) out.push_back(reconcile(p, std::move(r)));
  sweep_root_mounts(p, out);
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
  TRY_STATUS(parse_restart_policy(o.restart, rec));
  if (!o.hostname.empty()) TRY_STATUS(check_host_name(o.hostname, "--hostname"));
  if (!o.domainname.empty()) TRY_STATUS(check_host_name(o.domainname, "--domainname"));
  rec.labels = o.labels;
  if (!o.stop_signal.empty()) {
    int sig = TRY_CTX(oci::signal_from_name(o.stop_signal), "--stop-signal");
    rec.stop_signal = o.stop_signal;
    if (sig <= 0) return base::fail_msg("--stop-signal: not a signal");
  }
  if (o.stop_timeout) {
    if (*o.stop_timeout < -1 || *o.stop_timeout > 86400)
      return base::fail_msg("--stop-timeout: seconds from 0 to 86400, or -1 for none");
    rec.stop_timeout = *o.stop_timeout;
  }
  if (rec.auto_remove && rec.restart != "no")
    return base::fail_msg("--rm and --restart cannot be used together");
  std::optional<ContainerHandle> h;
  {
    auto lock = TRY(base::FileLock::acquire(p.root + "/containers.lock"));
    rec.name = o.name.empty() ? "berth_" + id.substr(0, 8) : o.name;
    TRY_STATUS(check_name(rec.name));
    for (const auto& other : list_containers(p.root))
      if (other.name == rec.name)
        return base::fail_msg(fmt::format("the name '{}' is already in use", rec.name));
    TRY_STATUS(base::make_dirs(container_dir(p.root, id)));
    // Held until the container is whole: an `rm` of it waits, never
    // deleting files that are still being written.
    h.emplace(TRY(ContainerHandle::lock_without_record(p.root, id)));
    h->record() = rec;
    TRY_STATUS(h->save());
  }
  if (auto s = prepare(p, o, *h); !s) {
    (void)remove_files(p, id);
    remove_anonymous_volumes(p.root, h->record().mounts);
    return base::fail(std::move(s).error());
  }
  record_container_event(p.root, h->record(), "create");
  return id;
}

base::Result<ContainerExit> start_container(const Paths& p, const std::string& id_or_name,
                                            bool attach) {
  ContainerRecord found = reconcile(p, TRY(find_container(p.root, id_or_name)));
  std::string dir = container_dir(p.root, found.id);
  if (found.state == "running")
    return base::fail_msg(fmt::format("container {} is already running", found.name));
  // A monitor that recorded the exit may still be taking back the network:
  // the new one starts after it is gone (never while holding the lock it needs).
  TRY_STATUS(base::LifeLock::wait_released(monitor_lock_path(dir)));
  // Ports a dead container still holds (its berth killed) are taken back
  // first, so the port check names only live holders. No lock is held here:
  // the sweep takes other containers' locks.
  if (!found.network.value("ports", nlohmann::json::array()).empty()) sweep_network_attachments(p);
  base::UniqueFd channel;
  {
    auto h = TRY(ContainerHandle::lock(p.root, found.id));
    if (h.record().state == "running" || monitor_alive(dir))
      return base::fail_msg(fmt::format("container {} is already running", found.name));
    channel = TRY(start_locked(p, h, attach));
  }
  if (!attach) return ContainerExit{};
  // Attached: Ctrl-C reaches the monitor too (same process group); it forwards it.
  // The monitor says "exit N" once the container is gone; it may still be
  // deleting a --rm container's files, which needs no waiting for.
  ::signal(SIGINT, SIG_IGN);
  auto said = oci::receive_message(channel.get());
  if (!said) return base::fail_msg("the container's monitor ended without an exit status");
  if (said->first != "exit") return base::fail_msg(said->second);
  ContainerExit exit;
  exit.status = std::atoi(said->second.c_str());
  exit.oom_killed = said->second.find(" oom") != std::string::npos;
  return exit;
}

base::Result<ContainerExit> run_container(const Paths& p, const RunOptions& o,
                                          std::string* id_out) {
  std::string id = TRY(create_container(p, o));
  if (id_out) *id_out = id;
  auto started = start_container(p, id, !o.detach);
  if (!started) {
    // A run that never started leaves nothing: no record, mount or directory.
    // One that ran (its monitor lost its attached reader) is left to be seen.
    if (auto rec = load_container(p.root, id); rec && rec->state == "created")
      (void)remove_container(p, id, true, true);
    return base::fail(std::move(started).error());
  }
  return *started;
}

base::Status request_stop(const Paths& p, const std::string& id) {
  auto h = TRY(ContainerHandle::lock(p.root, id));
  h.record().stop_requested = true;
  return h.save();
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

namespace {

base::Status stop_now(const Paths& p, const ContainerRecord& rec, std::optional<int> timeout) {
  int timeout_seconds = timeout.value_or(rec.stop_timeout);
  int stop_signal = oci::signal_from_name(rec.stop_signal).value_or(SIGTERM);
  std::string dir = container_dir(p.root, rec.id);
  // A monitor at work means a container to stop, whatever the record says
  // yet (a start in progress records "running" under the lock we wait for).
  if (rec.state != "running" && !monitor_alive(dir)) return {};
  TRY_STATUS(base::inject("stop.request"));
  TRY_STATUS(request_stop(p, rec.id));
  // Through the runtime, which knows the init by pid and start time.
  (void)oci::kill_container(p.run_root, rec.id, stop_signal, false);
  auto stopped = [&] { return !monitor_alive(dir); };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (timeout_seconds < 0 || std::chrono::steady_clock::now() < deadline) {  // -1: no limit
    if (stopped()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)oci::kill_container(p.run_root, rec.id, SIGKILL, true);
  for (int i = 0; i < 1000; ++i) {
    if (stopped()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return base::fail_msg(
      fmt::format("container {}: killed, but its monitor is still at work after 10 s", rec.name));
}

}  // namespace

base::Status stop_container(const Paths& p, const std::string& id_or_name,
                            std::optional<int> timeout) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  TRY_STATUS(stop_now(p, rec, timeout));
  record_container_event(p.root, rec, "stop");
  return {};
}

base::Status remove_container(const Paths& p, const std::string& id_or_name, bool force,
                              bool volumes) {
  // With --force, a container started again while we stopped it is stopped again.
  for (int attempt = 0;; ++attempt) {
    ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
    std::string dir = container_dir(p.root, rec.id);
    if (rec.state == "running" || (force && monitor_alive(dir))) {
      if (!force)
        return base::fail_msg(
            fmt::format("container {} is running: stop it first, or use --force", rec.name));
      TRY_STATUS(stop_container(p, rec.id, 0));
    }
    // Its monitor, if any, is finishing: it takes back what it holds first.
    TRY_STATUS(base::LifeLock::wait_released(monitor_lock_path(dir)));
    auto h = TRY(ContainerHandle::lock_without_record(p.root, rec.id));
    if (monitor_alive(dir)) {
      if (force && attempt < 10) continue;
      return base::fail_msg(fmt::format("container {} was started again meanwhile", rec.name));
    }
    TRY_STATUS(release_host_resources(p, rec.id, dir));
    TRY_STATUS(remove_files(p, rec.id));
    record_container_event(p.root, rec, "destroy");
    if (volumes) remove_anonymous_volumes(p.root, rec.mounts);
    return {};
  }
}

base::Status with_container_root(const Paths& p, const std::string& id_or_name,
                                 const std::function<base::Status(const std::string&)>& fn) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  std::string rootfs = container_dir(p.root, rec.id) + "/bundle/rootfs";
  for (int attempt = 0;; ++attempt) {
    // Held throughout: the root is neither unmounted by a monitor that
    // ends, nor removed, nor mounted again by a start while `fn` works in it.
    auto h = TRY(ContainerHandle::lock(p.root, rec.id));
    if (!monitor_alive(h.dir())) {
      RootMount mounted = TRY(RootMount::mount(h.dir(), rec.id));
      return fn(rootfs);
    }
    auto root_st = TRY(base::sys::fstatat(AT_FDCWD, rootfs, 0));
    auto bundle_st = TRY(base::sys::fstatat(AT_FDCWD, h.dir() + "/bundle", 0));
    if (root_st.st_dev != bundle_st.st_dev) return fn(rootfs);  // the running container's
    // A monitor that is ending, or restarting the container, has no root
    // mounted for a moment: let it go on (it may need the lock), then look again.
    if (attempt == 250)
      return base::fail_msg(
          fmt::format("container {} is between two runs: its root is not mounted", rec.name));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

base::Result<nlohmann::json> inspect_container(const Paths& p, const std::string& id_or_name) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  return docker_inspect(p, rec, container_dir(p.root, rec.id), is_paused(p, rec));
}

base::Status pause_container(const Paths& p, const std::string& id_or_name, bool pause) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  if (rec.state != "running")
    return base::fail_msg(fmt::format("container {} is not running", rec.name));
  if (is_paused(p, rec) == pause)
    return base::fail_msg(
        fmt::format("container {} is {}paused", rec.name, pause ? "already " : "not "));
  TRY_STATUS(oci::pause_container(p.run_root, rec.id, pause));
  record_container_event(p.root, rec, pause ? "pause" : "unpause");
  return {};
}

bool is_paused(const Paths& p, const ContainerRecord& rec) {
  if (rec.state != "running") return false;
  auto state = oci::container_state(p.run_root, rec.id);
  return state && state->value("status", "") == "paused";
}

base::Status rename_container(const Paths& p, const std::string& id_or_name,
                              const std::string& new_name) {
  TRY_STATUS(check_name(new_name));
  auto names_lock = TRY(base::FileLock::acquire(p.root + "/containers.lock"));
  ContainerRecord found = TRY(find_container(p.root, id_or_name));
  for (const auto& other : list_containers(p.root))
    if (other.name == new_name)
      return base::fail_msg(fmt::format("the name '{}' is already in use", new_name));
  auto h = TRY(ContainerHandle::lock(p.root, found.id));
  h.record().name = new_name;
  TRY_STATUS(h.save());
  record_container_event(p.root, h.record(), "rename", {{"oldName", "/" + found.name}});
  return {};
}

base::Result<int> wait_container(const Paths& p, const std::string& id_or_name) {
  ContainerRecord rec = reconcile(p, TRY(find_container(p.root, id_or_name)));
  std::string dir = container_dir(p.root, rec.id);
  if (rec.state == "running") TRY_STATUS(base::LifeLock::wait_released(monitor_lock_path(dir)));
  auto now = find_container(p.root, rec.id);
  if (!now) return base::fail_msg(fmt::format("container {} was removed", rec.name));
  return reconcile(p, std::move(*now)).exit_code;
}

}  // namespace berth
