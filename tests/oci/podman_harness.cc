#include "tests/oci/podman_harness.h"

#include <filesystem>
#include <system_error>
#include <utility>

namespace ocitest {
namespace fs = std::filesystem;

Podman::Podman(std::string runtime) : runtime_(std::move(runtime)) {
  e2e::write_file(dir_ / "containers.conf", "[engine]\nevents_logger = \"file\"\n");
}

Podman::~Podman() {
  run({"rm", "--all", "--force", "--time", "0"});
  run({"rmi", "--all", "--force"});
  unmount_below(dir_.path());
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    // rmdir: only once no podman uses them
    fs::remove(h.path() / "libpod_parent" / "conmon", ec);
    fs::remove(h.path() / "libpod_parent", ec);
  }
}

e2e::ProcResult Podman::run(std::vector<std::string> args) {
  std::vector<std::string> argv = {
      kPodman,      "--root",           dir_ / "storage", "--runroot",
      dir_ / "run", "--tmpdir",         dir_ / "tmp",     "--runtime",
      runtime_,     "--cgroup-manager", "cgroupfs",       "--events-backend",
      "file"};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Process(argv, {"CONTAINERS_CONF=" + dir_ / "containers.conf"})
      .wait(std::chrono::seconds(120));
}

}  // namespace ocitest
