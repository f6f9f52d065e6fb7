#include "berth/build/run_step.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"
#include "berth/build/mount_stubs.h"
#include "berth/container/container_network.h"
#include "berth/container/container_resources.h"
#include "berth/container/container_spec.h"
#include "oci/lifecycle.h"

namespace berth::build {
base::Result<int> run_in_step(const Paths& paths, StepRoot& step, const RunRequest& req,
                              int output_fd) {
  const std::string& dir = step.dir();
  TRY_STATUS(base::replace_file(dir + "/hostname", "buildkitsandbox\n"));
  TRY_STATUS(
      base::replace_file(dir + "/hosts", "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost\n"));
  std::string resolv =
      req.network == "host" ? base::read_text("/etc/resolv.conf").value_or("") : "";
  TRY_STATUS(base::replace_file(dir + "/resolv.conf", resolv));
  for (const char* f : {"hostname", "hosts", "resolv.conf"})
    TRY_STATUS(base::sys::fchmodat(AT_FDCWD, dir + "/" + f, 0644));

  RunOptions o;
  o.image = req.shown;
  o.command = req.args;
  o.entrypoint = std::string();  // none: the command is the whole argv
  o.workdir = req.workdir.empty() ? "/" : req.workdir;
  o.user = req.user;
  o.hostname = "buildkitsandbox";
  o.network = req.network;
  nlohmann::json image_config = {{"config", {{"Env", req.env}}}};
  SpecPaths sp{step.rootfs(), dir + "/hosts", dir + "/hostname", dir + "/resolv.conf"};
  // On the bridge: wired as a container is (its hosts and resolv.conf too),
  // and unwired when the lease goes, whatever happens to the step.
  std::optional<NetworkLease> lease;
  if (req.network == "bridge") {
    ContainerRecord rec;
    rec.id = step.id();
    rec.network = TRY(plan_network({paths.root, paths.run_root}, o, image_config));
    lease.emplace(TRY(NetworkLease::take(paths, rec, dir)));
    sp.netns = netns_path({paths.root, paths.run_root}, step.id());
  }
  // User names are looked up in the stage's own /etc/passwd and /etc/group.
  read_accounts(req.layers, sp);
  nlohmann::json spec = TRY(make_spec(o, image_config, step.id(), sp));
  // The working directory is made when missing, as docker does for RUN.
  spec["process"]["cwd"] = o.workdir;
  TRY_STATUS(
      base::replace_file(dir + "/bundle/config.json",
                         spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));

  base::UniqueFd null_in = TRY(base::sys::open("/dev/null", O_RDONLY));
  base::UniqueFd null_out = TRY(base::sys::open("/dev/null", O_WRONLY));
  int out = output_fd >= 0 ? output_fd : null_out.get();
  oci::CreateOptions create;
  create.root = paths.run_root;
  create.id = step.id();
  create.bundle = dir + "/bundle";
  create.stdio = {null_in.get(), out, out};
  // The runtime's mount points are not the step's work: those it makes are
  // taken out again.
  std::vector<std::string> targets;
  for (const auto& m : spec.value("mounts", nlohmann::json::array()))
    if (m.contains("destination") && m["destination"].is_string())
      targets.push_back(m["destination"].get<std::string>());
  base::UniqueFd root = TRY(base::sys::open(step.rootfs(), O_PATH | O_DIRECTORY));
  MountStubs stubs = MountStubs::missing(root.get(), targets);
  int status = TRY_CTX(oci::run_container(create, false), req.shown);
  TRY_STATUS(stubs.remove_empty(root.get()));
  return status;
}

}  // namespace berth::build
