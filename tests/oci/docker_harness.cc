#include "tests/oci/docker_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace dockertest {
namespace fs = std::filesystem;

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

namespace {

struct Hierarchy {
  std::string controllers;  // "memory", "cpu,cpuacct", "name=systemd", "" for v2
  std::string path;         // the process's cgroup in it
};

std::vector<Hierarchy> hierarchies(pid_t pid) {
  std::vector<Hierarchy> out;
  std::ifstream in(fmt::format("/proc/{}/cgroup", pid));
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

bool has_item(const std::string& list, const std::string& item) {
  std::stringstream ss(list);
  std::string x;
  while (std::getline(ss, x, ','))
    if (x == item) return true;
  return false;
}

// Where hierarchy `h` is mounted on the host, or "".
std::string mount_point(const Hierarchy& h) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string id, parent, dev, root, point, f;
    ss >> id >> parent >> dev >> root >> point;
    while (ss >> f && f != "-") {
    }
    std::string type, source, super;
    ss >> type >> source >> super;
    if (root != "/") continue;
    if (h.controllers.empty() ? type == "cgroup2" : type == "cgroup") {
      if (h.controllers.empty()) return point;
      std::stringstream cs(h.controllers);
      std::string c;
      bool all = true;
      while (std::getline(cs, c, ',')) all = all && has_item(super, c);
      if (all) return point;
    }
  }
  return "";
}

std::string join(const std::string& mount, const std::string& path) {
  return path == "/" ? mount : mount + path;
}

std::string netns_of(pid_t pid) {
  std::error_code ec;
  auto t = fs::read_symlink(fmt::format("/proc/{}/ns/net", pid), ec);
  return ec ? "" : t.string();
}

// Processes whose command line contains `needle` or whose network namespace is `netns`.
std::vector<pid_t> pids_of(const std::string& needle, const std::string& netns) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    std::string cmd = e2e::read_file(e.path() / "cmdline");
    if (cmd.find(needle) != std::string::npos || (!netns.empty() && netns_of(pid) == netns))
      out.push_back(pid);
  }
  return out;
}

// Every pid in the cgroup trees below `dirs`.
std::vector<pid_t> pids_in_cgroups(const std::vector<std::string>& dirs) {
  std::vector<pid_t> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<std::string> files = {d + "/cgroup.procs"};
    for (const auto& e : fs::recursive_directory_iterator(d, ec))
      if (e.is_directory(ec)) files.push_back(e.path() / "cgroup.procs");
    for (const auto& f : files) {
      std::ifstream in(f);
      pid_t p;
      while (in >> p) out.push_back(p);
    }
  }
  return out;
}

void remove_cgroup_tree(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<std::string> dirs;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_directory(ec)) dirs.push_back(e.path());
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  ::rmdir(dir.c_str());
}

std::string unique_parent(const char* client) {
  static std::atomic<int> n{0};
  return fmt::format("berth-{}-{}-{}", client, ::getpid(), n++);
}

// The directory `name` below this process's cgroup in every hierarchy.
std::vector<std::string> own_cgroup_children(const std::string& name) {
  std::vector<std::string> out;
  for (const auto& h : hierarchies(::getpid())) {
    std::string m = mount_point(h);
    if (!m.empty()) out.push_back(join(m, h.path) + "/" + name);
  }
  return out;
}

}  // namespace

std::string cgroup_dir(pid_t pid, const std::string& controller) {
  for (const auto& h : hierarchies(pid)) {
    bool match = controller.empty() ? h.controllers.empty() : has_item(h.controllers, controller);
    if (!match) continue;
    std::string m = mount_point(h);
    return m.empty() ? "" : join(m, h.path);
  }
  return "";
}

Dockerd::Dockerd(DockerdOptions opts) : parent_(unique_parent("docker")) {
  had_run_containerd_ = e2e::exists("/run/containerd");
  had_run_docker_ = e2e::exists("/run/docker");
  e2e::write_file(dir_ / "daemon.json", "{}\n");
  fs::create_directories(dir_ / "client");
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                   "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1",
                                   "/usr/bin/unshare",
                                   "--net",
                                   kDockerd,
                                   "--config-file",
                                   dir_ / "daemon.json",
                                   "--data-root",
                                   dir_ / "data",
                                   "--exec-root",
                                   dir_ / "exec",
                                   "--pidfile",
                                   dir_ / "docker.pid",
                                   "-H",
                                   "unix://" + dir_ / "docker.sock",
                                   "--exec-opt",
                                   "native.cgroupdriver=cgroupfs",
                                   "--cgroup-parent",
                                   parent_,
                                   "--add-runtime",
                                   "berth=" + ocitest::berth_oci_bin()};
  if (opts.berth_default) {
    argv.push_back("--default-runtime");
    argv.push_back("berth");
  }
  daemon_ = std::make_unique<e2e::Process>(argv);
  ready_ = poll_until([&] {
    if (!daemon_->running()) return true;
    // Generous: dockerd answers slowly while it starts on a loaded machine.
    return docker({"version"}, std::chrono::seconds(45)).exit_code == 0;
  });
  ready_ = ready_ && daemon_->running();
  if (ready_) netns_ = netns_of(daemon_->pid());
  if (netns_ == netns_of(::getpid())) ready_ = false;  // unshare --net did not happen
  // Loopback inside its namespace, for published ports on 127.0.0.1.
  if (ready_) ready_ = in_netns({"/sbin/ip", "link", "set", "lo", "up"}).exit_code == 0;
}

Dockerd::~Dockerd() {
  shutdown();
}

void Dockerd::shutdown() {
  if (daemon_ && daemon_->running()) {
    docker({"swarm", "leave", "--force"}, std::chrono::seconds(60));
    auto ids = docker({"ps", "-aq"});
    std::vector<std::string> rm = {"rm", "-f"};
    std::stringstream ss(ids.out);
    std::string id;
    while (ss >> id) rm.push_back(id);
    if (rm.size() > 2) docker(rm);
    daemon_->signal(SIGTERM);
    daemon_->wait(std::chrono::seconds(60));
  }
  daemon_.reset();
  // What a dead or killed dockerd left: its containerd and shims (their command
  // lines name our directory), and container processes in our cgroup parent.
  for (int round = 0; round < 50; ++round) {
    auto pids = pids_of(dir_.path() + "/", netns_);
    auto in_cg = pids_in_cgroups(cgroup_parent_dirs());
    pids.insert(pids.end(), in_cg.begin(), in_cg.end());
    if (pids.empty()) break;
    for (pid_t p : pids) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ocitest::unmount_below(dir_.path());
  for (const auto& d : cgroup_parent_dirs()) remove_cgroup_tree(d);
  if (!had_run_containerd_) {
    ::rmdir("/run/containerd/s");
    ::rmdir("/run/containerd");
  }
  if (!had_run_docker_) {
    ::rmdir("/run/docker/plugins");
    ::rmdir("/run/docker");
  }
}

std::string Dockerd::log() const {
  return daemon_ ? daemon_->err() : "";
}

std::vector<std::string> Dockerd::docker_argv(std::vector<std::string> args) const {
  std::vector<std::string> argv = {"/usr/bin/env", "DOCKER_CONFIG=" + dir_ / "client", kDocker,
                                   "-H", "unix://" + dir_ / "docker.sock"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

e2e::ProcResult Dockerd::docker(std::vector<std::string> args, std::chrono::seconds limit) {
  return e2e::Process(docker_argv(std::move(args))).wait(limit);
}

e2e::ProcResult Dockerd::in_netns(std::vector<std::string> argv) {
  std::vector<std::string> full = {"/usr/bin/nsenter", "--net=" + netns_path()};
  full.insert(full.end(), argv.begin(), argv.end());
  return e2e::Process(full).wait(std::chrono::seconds(60));
}

e2e::ProcResult Dockerd::import_image() {
  return docker({"import", ocitest::rootfs_tar(dir_.path()), kImage});
}

std::string Dockerd::inspect(const std::string& name, const std::string& format) {
  return trim(docker({"inspect", "-f", format, name}).out);
}

std::string Dockerd::runtime_log(const std::string& id) const {
  std::string p =
      dir_ / ("exec/containerd/daemon/io.containerd.runtime.v2.task/moby/" + id + "/log.json");
  return e2e::read_file(p);
}

pid_t Dockerd::pid() const {
  return daemon_ ? daemon_->pid() : -1;
}

std::string Dockerd::netns_id() const {
  return netns_;
}

std::string Dockerd::netns_path() const {
  return fmt::format("/proc/{}/ns/net", pid());
}

std::vector<std::string> Dockerd::cgroup_parent_dirs() const {
  return own_cgroup_children(parent_);
}

Buildah::Buildah() : parent_(unique_parent("buildah")) {
  e2e::write_file(dir_ / "containers.conf", "[engine]\nevents_logger = \"file\"\n");
  fs::create_directories(dir_ / "tmp");
}

Buildah::~Buildah() {
  run({"rm", "--all"});
  run({"rmi", "--all", "--force"});
  ocitest::unmount_below(dir_.path());
  for (const auto& d : own_cgroup_children(parent_)) remove_cgroup_tree(d);
}

e2e::ProcResult Buildah::run(std::vector<std::string> args) {
  std::vector<std::string> argv = {
      "/usr/bin/unshare",
      "--mount",
      "--propagation",
      "private",
      "/bin/sh",
      "-c",
      "mount -t tmpfs -o mode=0755,size=4m berth-test-varlib /var/lib && exec \"$@\"",
      "sh",
      "/usr/bin/env",
      "CONTAINERS_CONF=" + dir_ / "containers.conf",
      "TMPDIR=" + dir_ / "tmp",
      kBuildah,
      "--root",
      dir_ / "storage",
      "--runroot",
      dir_ / "run",
      "--storage-driver",
      "vfs",
      "--cgroup-manager",
      "cgroupfs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Process(argv).wait(std::chrono::seconds(300));
}

std::vector<std::string> Buildah::runtime_flags() const {
  return {"--runtime",      ocitest::berth_oci_bin(),    "--isolation", "oci", "--network", "none",
          "--runtime-flag", "root=" + dir_ / "oci-state"};
}

PtyResult run_on_pty(const std::vector<std::string>& argv, const std::string& input,
                     unsigned short rows, unsigned short cols, std::chrono::seconds limit) {
  PtyResult r;
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    ADD_FAILURE() << "posix_openpt: " << std::strerror(errno);
    if (master >= 0) ::close(master);
    return r;
  }
  char name[PATH_MAX];
  ::ptsname_r(master, name, sizeof name);
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  ::ioctl(master, TIOCSWINSZ, &ws);
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    int s = ::open(name, O_RDWR);  // a session leader's first tty becomes its terminal
    if (s < 0) _exit(126);
    ::ioctl(s, TIOCSCTTY, 0);
    ::dup2(s, 0);
    ::dup2(s, 1);
    ::dup2(s, 2);
    ::close_range(3, ~0u, 0);
    std::vector<char*> av, ev;
    for (auto& a : const_cast<std::vector<std::string>&>(argv)) av.push_back(a.data());
    av.push_back(nullptr);
    for (auto& x : envs) ev.push_back(x.data());
    ev.push_back(nullptr);
    ::execve(av[0], av.data(), ev.data());
    _exit(127);
  }
  if (!input.empty() && ::write(master, input.data(), input.size()) < 0)
    ADD_FAILURE() << "write to pty: " << std::strerror(errno);
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  while (true) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "program on the pty did not finish within " << limit.count() << "s";
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) {
      r.out.append(buf, n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO: every slave fd is closed, the program has gone
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return r;
}

}  // namespace dockertest
