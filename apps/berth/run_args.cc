#include "apps/berth/run_args.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "base/units.h"
#include "berth/container/log_files.h"
#include "berth/container/spec_options.h"
#include "berth/docker_args.h"

namespace berth_cli {
namespace {

using berth::FlagSpec;

// docker 20.10's `run` flags that berth has, with the words `--help` shows.
constexpr auto kFlags = std::to_array<FlagSpec>({
    {"add-host", 0, true, "HOST:IP line in /etc/hosts (repeatable)"},
    {"cap-add", 0, true, "add a capability (NAME, CAP_NAME or ALL)"},
    {"cap-drop", 0, true, "drop a capability (NAME, CAP_NAME or ALL)"},
    {"cgroupns", 0, true, "host or private"},
    {"cpu-shares", 'c', true, "CPU weight (2 to 262144)"},
    {"cpus", 0, true, "CPUs (e.g. 0.5)"},
    {"cpuset-cpus", 0, true, "CPUs it may run on (0-3,5)"},
    {"cpuset-mems", 0, true, "memory nodes it may use"},
    {"detach", 'd', false, "run in the background and print the id"},
    {"device", 0, true, "/HOST[:/CONTAINER][:rwm] (repeatable)"},
    {"disable-content-trust", 0, false, "accepted: berth checks every digest it pulls"},
    {"dns", 0, true, "a name server (repeatable)"},
    {"dns-option", 0, true, "a resolv.conf option (repeatable)"},
    {"dns-search", 0, true, "a search domain (repeatable)"},
    {"domainname", 0, true, "the container's NIS domain name"},
    {"entrypoint", 0, true, "replace the image's entrypoint"},
    {"env", 'e', true, "NAME=VALUE, or NAME to pass ours (repeatable)"},
    {"env-file", 0, true, "a file of NAME=VALUE lines (repeatable)"},
    {"group-add", 0, true, "another group (name or number; repeatable)"},
    {"hostname", 'h', true, "the container's hostname"},
    {"init", 0, false, "berth-init as pid 1: passes signals on, reaps orphans"},
    {"interactive", 'i', false, "keep standard input open to the container"},
    {"ipc", 0, true, "host or private"},
    {"label", 'l', true, "KEY=VALUE on the container (repeatable)"},
    {"label-file", 0, true, "a file of KEY=VALUE lines (repeatable)"},
    {"log-driver", 0, true, "json-file (berth's log) only"},
    {"log-opt", 0, true, "max-size=SIZE, max-file=N: rotate the log (repeatable)"},
    {"memory", 'm', true, "memory limit (e.g. 64m, 1g)"},
    {"memory-swap", 0, true, "-1 only: swap is not limited apart from memory"},
    {"name", 0, true, "a name for the container"},
    {"net", 0, true, "same as --network"},
    {"network", 0, true, "a bridge network (default berth0; bridge), none, host or container:ID"},
    {"oom-score-adj", 0, true, "the OOM killer's preference (-1000 to 1000)"},
    {"pid", 0, true, "host or private"},
    {"pids-limit", 0, true, "maximum number of processes (default 2048; -1: none)"},
    {"platform", 0, true, "OS/ARCH: only this host's"},
    {"privileged", 0, false, "every capability and host device, no seccomp, no masked paths"},
    {"publish", 'p', true, "[HOSTIP:]HOSTPORT:PORT[/udp], or PORT (repeatable)"},
    {"publish-all", 'P', false, "publish the image's exposed ports"},
    {"expose", 0, true, "PORT[-END][/PROTO]: expose (-P publishes it) (repeatable)"},
    {"pull", 0, true, "missing (default), always or never"},
    {"read-only", 0, false, "read-only root filesystem"},
    {"restart", 0, true, "no, on-failure[:N] or always"},
    {"rm", 0, false, "remove the container when it exits"},
    {"runtime", 0, true, "berth-oci only"},
    {"security-opt", 0, true, "seccomp=unconfined, no-new-privileges (repeatable)"},
    {"shm-size", 0, true, "size of /dev/shm (e.g. 64m)"},
    {"sig-proxy", 0, false, "accepted when true: signals to berth reach the container"},
    {"stop-signal", 0, true, "what stop sends first (default SIGTERM)"},
    {"stop-timeout", 0, true, "seconds stop waits before SIGKILL (default 10)"},
    {"health-cmd", 0, true, "a shell command that says whether the container is healthy"},
    {"health-interval", 0, true, "between two checks (30s)"},
    {"health-timeout", 0, true, "a check that runs longer fails (30s)"},
    {"health-start-period", 0, true, "failures then do not count (0s)"},
    {"health-retries", 0, true, "failures in a row that make it unhealthy (3)"},
    {"no-healthcheck", 0, false, "no health checks, not even the image's"},
    {"sysctl", 0, true, "NAME=VALUE of the container's namespaces (repeatable)"},
    {"tmpfs", 0, true, "PATH[:OPTIONS]: a tmpfs mount (repeatable)"},
    {"tty", 't', false, "give the container a terminal"},
    {"ulimit", 0, true, "NAME=SOFT[:HARD] (repeatable)"},
    {"user", 'u', true, "USER[:GROUP], names or numbers"},
    {"uts", 0, true, "host or private"},
    {"volume", 'v', true, "/HOST:/CONTAINER[:MODES], NAME:/CONTAINER, /CONTAINER (repeatable)"},
    {"mount", 0, true, "type=bind|volume|tmpfs,source=S,target=T[,readonly] (repeatable)"},
    {"workdir", 'w', true, "working directory inside"},
});

// docker's other `run` flags: known, so never misread, and refused with why.
struct Refused {
  FlagSpec flag;
  std::string_view why;
};
constexpr auto kRefused = std::to_array<Refused>({
    {{"attach", 'a', true}, "berth attaches all three streams, or none with -d"},
    {{"blkio-weight", 0, true}, "block I/O weights are not supported"},
    {{"blkio-weight-device", 0, true}, "block I/O weights are not supported"},
    {{"cgroup-parent", 0, true}, "berth keeps its containers under /berth"},
    {{"cidfile", 0, true}, "not supported; use -d, which prints the id"},
    {{"cpu-period", 0, true}, "not supported; use --cpus"},
    {{"cpu-quota", 0, true}, "not supported; use --cpus"},
    {{"cpu-rt-period", 0, true}, "real-time scheduling is not supported"},
    {{"cpu-rt-runtime", 0, true}, "real-time scheduling is not supported"},
    {{"detach-keys", 0, true}, "berth has no detach keys"},
    {{"device-cgroup-rule", 0, true}, "not supported; use --device"},
    {{"device-read-bps", 0, true}, "device I/O limits are not supported"},
    {{"device-read-iops", 0, true}, "device I/O limits are not supported"},
    {{"device-write-bps", 0, true}, "device I/O limits are not supported"},
    {{"device-write-iops", 0, true}, "device I/O limits are not supported"},
    {{"gpus", 0, true}, "GPUs are not supported"},
    {{"ip", 0, true}, "addresses are assigned by berth"},
    {{"ip6", 0, true}, "IPv6 is not supported"},
    {{"isolation", 0, true}, "Windows only"},
    {{"kernel-memory", 0, true}, "deprecated by docker; not supported"},
    {{"link", 0, true}, "legacy links are not supported; use a network"},
    {{"link-local-ip", 0, true}, "not supported"},
    {{"mac-address", 0, true}, "not supported"},
    {{"memory-reservation", 0, true}, "not supported; use --memory"},
    {{"memory-swappiness", 0, true}, "not supported"},
    {{"network-alias", 0, true}, "not supported; containers are found by name"},
    {{"oom-kill-disable", 0, false}, "not supported"},
    {{"storage-opt", 0, true}, "not supported"},
    {{"userns", 0, true}, "user namespaces are not supported by berth"},
    {{"volume-driver", 0, true}, "volume drivers are not supported"},
    {{"volumes-from", 0, true}, "not supported"},
});

std::vector<FlagSpec> all_flags(bool is_run) {
  std::vector<FlagSpec> out;
  for (const auto& f : kFlags)
    if (is_run || f.name != "detach") out.push_back(f);
  for (const auto& r : kRefused) out.push_back(r.flag);
  return out;
}

base::Result<int64_t> integer(const berth::DockerArgs& a, const char* flag) {
  std::string text = a.last(flag);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    return base::fail_msg(fmt::format("--{} '{}': not a whole number", flag, text));
  return v;
}

base::Result<int64_t> size(const berth::DockerArgs& a, const char* flag) {
  auto bytes = base::units::parse_size(a.last(flag));
  if (!bytes || *bytes > static_cast<uint64_t>(INT64_MAX))
    return base::fail_msg(fmt::format("--{} '{}': not a size such as 64m", flag, a.last(flag)));
  return static_cast<int64_t>(*bytes);
}

// KEY=VALUE lines of --label-file ("#" comments and blank lines skipped),
// then --label; a bare KEY is an empty value, as docker has it.
base::Status add_labels(const berth::DockerArgs& a, berth::RunOptions& o) {
  std::vector<std::string> lines;
  for (const auto& file : a.all("label-file")) {
    std::string text = TRY_CTX(base::read_text_capped(file, size_t{1} << 20), "--label-file");
    for (size_t start = 0; start < text.size();) {
      size_t nl = text.find('\n', start);
      std::string line = text.substr(start, nl == std::string::npos ? nl : nl - start);
      start = nl == std::string::npos ? text.size() : nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t first = line.find_first_not_of(" \t");
      if (first != std::string::npos && line[first] != '#') lines.push_back(line.substr(first));
    }
  }
  for (const auto& l : a.all("label")) lines.push_back(l);
  for (const auto& l : lines) {
    auto eq = l.find('=');
    if (eq == 0 || l.empty() || l.find('\0') != std::string::npos)
      return base::fail_msg(fmt::format("--label '{}': must be KEY=VALUE", l));
    o.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  return {};
}

base::Status read_security_opts(const berth::DockerArgs& a, berth::RunOptions& o) {
  for (const auto& opt : a.all("security-opt")) {
    if (opt == "seccomp=unconfined" || opt == "seccomp:unconfined") {
      o.seccomp = false;
    } else if (opt == "no-new-privileges" || opt == "no-new-privileges=true" ||
               opt == "no-new-privileges:true") {
      o.no_new_privileges = true;
    } else if (opt != "no-new-privileges=false" && opt != "no-new-privileges:false") {
      return base::fail_msg(fmt::format(
          "--security-opt '{}': supported are seccomp=unconfined and no-new-privileges", opt));
    }
  }
  return {};
}

base::Status read_limits(const berth::DockerArgs& a, berth::RunOptions& o) {
  if (a.given("memory")) o.memory = TRY(size(a, "memory"));
  if (o.memory == 0) o.memory.reset();  // docker: 0 is no limit
  if (o.memory) TRY_STATUS(berth::check_memory_limit(*o.memory));
  if (a.given("memory-swap")) TRY_STATUS(berth::check_memory_swap(a.last("memory-swap")));
  if (a.given("shm-size")) o.shm_size = TRY(size(a, "shm-size"));
  if (o.shm_size == 0) o.shm_size.reset();  // docker: 0 is the default, 64 MiB
  if (a.given("pids-limit")) o.pids_limit = TRY(integer(a, "pids-limit"));
  if (a.given("cpu-shares")) o.cpu_shares = TRY(integer(a, "cpu-shares"));
  if (o.cpu_shares == 0) o.cpu_shares.reset();  // docker: 0 is the default weight
  if (a.given("oom-score-adj")) {
    int64_t v = TRY(integer(a, "oom-score-adj"));
    if (v < -1000 || v > 1000)
      return base::fail_msg(fmt::format("--oom-score-adj {}: must be from -1000 to 1000", v));
    o.oom_score_adj = static_cast<int>(v);
  }
  if (a.given("health-cmd")) o.health_cmd = a.last("health-cmd");
  o.health_interval = a.last("health-interval");
  o.health_timeout = a.last("health-timeout");
  o.health_start_period = a.last("health-start-period");
  o.no_healthcheck = a.on("no-healthcheck");
  if (a.given("health-retries")) {
    int64_t v = TRY(integer(a, "health-retries"));
    if (v < 0 || v > 1000000)
      return base::fail_msg(fmt::format("--health-retries {}: must be from 0 to 1000000", v));
    o.health_retries = static_cast<int>(v);
  }
  if (a.given("stop-timeout")) {
    int64_t v = TRY(integer(a, "stop-timeout"));
    if (v < -1 || v > 86400)
      return base::fail_msg(
          fmt::format("--stop-timeout {}: seconds from 0 to 86400, or -1 for none", v));
    o.stop_timeout = static_cast<int>(v);
  }
  if (a.given("cpus")) o.cpus = TRY(berth::parse_cpus(a.last("cpus")));
  return {};
}

// berth-init, installed beside the berth binary that runs.
base::Result<std::string> init_binary() {
  std::string self = TRY(base::sys::readlinkat(AT_FDCWD, "/proc/self/exe"));
  std::string path = self.substr(0, self.rfind('/') + 1) + "berth-init";
  if (!base::sys::access(path, X_OK))
    return base::fail_msg(fmt::format("--init: {} is missing (it is built with berth)", path));
  return path;
}

// --log-opt KEY=VALUE, checked as the monitor will read them (log_files.h).
base::Status read_log_options(const berth::DockerArgs& a, berth::RunOptions& o) {
  for (const auto& opt : a.all("log-opt")) {
    auto eq = opt.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::fail_msg(fmt::format("--log-opt '{}': must be KEY=VALUE", opt));
    o.log_options[opt.substr(0, eq)] = opt.substr(eq + 1);
  }
  TRY_STATUS(berth::parse_log_options(o.log_options));
  return {};
}

// The flags whose only accepted value is berth's own way.
base::Status check_fixed_values(const berth::DockerArgs& a) {
  if (a.given("log-driver") && a.last("log-driver") != "json-file")
    return base::fail_msg(
        fmt::format("--log-driver '{}': berth keeps a json-file log only", a.last("log-driver")));
  if (a.given("runtime") && a.last("runtime") != "berth-oci")
    return base::fail_msg(fmt::format("--runtime '{}': berth runs containers with berth-oci only",
                                      a.last("runtime")));
  if (a.given("sig-proxy") && !a.on("sig-proxy"))
    return base::fail_msg("--sig-proxy=false: not supported");
  if (a.given("disable-content-trust") && !a.on("disable-content-trust"))
    return base::fail_msg("--disable-content-trust=false: berth has no content trust");
  if (a.given("platform")) {
#if defined(__x86_64__)
    constexpr std::string_view kArch = "amd64";
#elif defined(__aarch64__)
    constexpr std::string_view kArch = "arm64";
#else
    constexpr std::string_view kArch = "";
#endif
    std::string p = a.last("platform");
    if (p != "linux/" + std::string(kArch) && p != kArch)
      return base::fail_msg(fmt::format(
          "--platform '{}': berth runs images of this host's platform only, linux/{}", p, kArch));
  }
  if (a.given("pull")) {
    std::string p = a.last("pull");
    if (p != "missing" && p != "always" && p != "never")
      return base::fail_msg(fmt::format("--pull '{}': must be missing, always or never", p));
  }
  return {};
}

}  // namespace

base::Result<RunArgs> read_run_args(std::span<const std::string> words, bool is_run) {
  auto flags = all_flags(is_run);
  berth::DockerArgs a = TRY(berth::parse_docker_args(flags, words));
  RunArgs out;
  if (a.help) {
    out.help = true;
    return out;
  }
  for (const auto& r : kRefused)
    if (a.given(std::string(r.flag.name)))
      return base::fail_msg(fmt::format("--{}: {}", r.flag.name, r.why));
  if (a.positional.empty())
    return base::fail_msg("an image is required: run [OPTIONS] IMAGE [COMMAND [ARG...]]");
  TRY_STATUS(check_fixed_values(a));
  auto& o = out.options;
  TRY_STATUS(read_log_options(a, o));
  o.image = a.positional.front();
  o.command.assign(a.positional.begin() + 1, a.positional.end());
  o.detach = a.on("detach");
  o.remove = a.on("rm");
  o.interactive = a.on("interactive");
  o.tty = a.on("tty");
  o.read_only = a.on("read-only");
  o.publish_all = a.on("publish-all");
  o.privileged = a.on("privileged");
  o.name = a.last("name");
  o.workdir = a.last("workdir");
  o.user = a.last("user");
  o.hostname = a.last("hostname");
  o.domainname = a.last("domainname");
  if (a.given("network") || a.given("net")) o.network = a.last_of({"network", "net"});
  if (a.given("restart")) o.restart = a.last("restart");
  if (a.given("entrypoint")) o.entrypoint = a.last("entrypoint");
  if (a.given("pull")) out.pull = a.last("pull");
  o.env = a.all("env");
  o.volumes = a.all("volume");
  o.mounts = a.all("mount");
  o.publish = a.all("publish");
  o.expose = a.all("expose");
  o.cap_add = a.all("cap-add");
  o.cap_drop = a.all("cap-drop");
  o.devices = a.all("device");
  o.tmpfs = a.all("tmpfs");
  o.sysctls = a.all("sysctl");
  o.ulimits = a.all("ulimit");
  o.group_add = a.all("group-add");
  o.add_hosts = a.all("add-host");
  o.dns = a.all("dns");
  o.dns_search = a.all("dns-search");
  o.dns_options = a.all("dns-option");
  o.ipc = a.last("ipc");
  o.pid = a.last("pid");
  o.uts = a.last("uts");
  o.cgroupns = a.last("cgroupns");
  o.stop_signal = a.last("stop-signal");
  o.cpuset_cpus = a.last("cpuset-cpus");
  o.cpuset_mems = a.last("cpuset-mems");
  if (a.on("init")) o.init_path = TRY(init_binary());
  TRY_STATUS(read_limits(a, o));
  TRY_STATUS(read_security_opts(a, o));
  TRY_STATUS(add_labels(a, o));
  std::vector<std::string> env;
  for (const auto& file : a.all("env-file")) {
    auto lines = TRY(berth::read_env_file(file));
    env.insert(env.end(), lines.begin(), lines.end());
  }
  o.env.insert(o.env.begin(), env.begin(), env.end());  // -e wins over the files
  return out;
}

std::string run_usage(std::string_view command) {
  std::string out = fmt::format("Usage: berth {} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n", command);
  std::vector<FlagSpec> flags;
  for (const auto& f : kFlags)
    if (command == "run" || f.name != "detach") flags.push_back(f);
  return out + berth::docker_usage(flags);
}

}  // namespace berth_cli
