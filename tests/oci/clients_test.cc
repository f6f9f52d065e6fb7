// Real clients drive berth-oci exactly as they drive runc: podman (through
// conmon) and containerd's ctr (through containerd-shim-runc-v2). Each test
// gives the client private storage and state directories, uses no network,
// and removes everything it made.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"
#include "tests/oci/podman_harness.h"

namespace {
namespace fs = std::filesystem;
using ocitest::Podman;

bool have(const char* tool) {
  return e2e::exists(tool);
}

const std::vector<std::string> kLimits = {"--network",        "none",     "--ulimit",
                                          "nofile=1024:1024", "--ulimit", "nproc=1000:1000"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Clients, PodmanRunsExecsPausesStopsAndRemoves) {
  if (!have("/usr/bin/podman")) GTEST_SKIP() << "podman is not installed";
  Podman p;
  auto imp = p.run({"import", ocitest::rootfs_tar(p.dir().path()), "localhost/berth-test:latest"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  auto once = p.run(with(with({"run", "--rm"}, kLimits),
                         {"localhost/berth-test:latest", "sh", "-c", "echo hello; exit 3"}));
  EXPECT_EQ(once.exit_code, 3) << once.err;
  EXPECT_EQ(once.out, "hello\n");

  auto started = p.run(with(with({"run", "-d", "--name", "boat"}, kLimits),
                            {"localhost/berth-test:latest", "sleep", "1000"}));
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto runtime = p.run({"inspect", "--format", "{{.OCIRuntime}}", "boat"});
  EXPECT_NE(runtime.out.find("berth-oci"), std::string::npos) << runtime.out;
  auto ex = p.run({"exec", "boat", "sh", "-c", "echo inside; cat /proc/1/cmdline"});
  EXPECT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_EQ(ex.out, std::string("inside\nsleep\0"
                                "1000\0",
                                18));
  auto tty = p.run({"exec", "-t", "boat", "tty"});
  EXPECT_EQ(tty.exit_code, 0) << tty.err;
  EXPECT_NE(tty.out.find("/dev/pts/"), std::string::npos) << tty.out;

  ASSERT_EQ(p.run({"pause", "boat"}).exit_code, 0);
  EXPECT_EQ(p.run({"inspect", "--format", "{{.State.Status}}", "boat"}).out, "paused\n");
  ASSERT_EQ(p.run({"unpause", "boat"}).exit_code, 0);
  EXPECT_EQ(p.run({"inspect", "--format", "{{.State.Status}}", "boat"}).out, "running\n");
  auto stop = p.run({"stop", "--time", "1", "boat"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(p.run({"inspect", "--format", "{{.State.Status}}", "boat"}).out, "exited\n");
  auto rm = p.run({"rm", "boat"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_NE(p.run({"inspect", "boat"}).exit_code, 0);
}

class Containerd {
 public:
  Containerd() : ns_(fmt::format("berth-test-{}", ::getpid())) {
    e2e::write_file(dir_ / "config.toml", fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
[grpc]
  address = "{0}/containerd.sock"
[ttrpc]
  address = "{0}/containerd.sock.ttrpc"
[debug]
  address = "{0}/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
)",
                                                      dir_.path()));
    daemon_ = std::make_unique<e2e::Process>(
        std::vector<std::string>{"/usr/bin/containerd", "--config", dir_ / "config.toml"});
    ready_ =
        e2e::eventually([&] { return ctr({"version"}).exit_code == 0; }, std::chrono::seconds(30));
  }
  ~Containerd() {
    for (const char* c : {"boat", "once"}) {
      ctr({"task", "kill", "--signal", "KILL", c});
      ctr({"task", "rm", "--force", c});
      ctr({"container", "rm", c});
    }
    daemon_.reset();  // SIGKILL; its shims exit once their containers are gone
    ocitest::unmount_below(dir_.path());
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
      fs::remove(h.path() / ns_, ec);
  }
  bool ready() const { return ready_; }
  e2e::ProcResult ctr(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/ctr", "--address", dir_ / "containerd.sock",
                                     "--namespace", ns_};
    argv.insert(argv.end(), args.begin(), args.end());
    return e2e::Process(argv).wait(std::chrono::seconds(120));
  }

 private:
  e2e::TempDir dir_;
  std::string ns_;
  std::unique_ptr<e2e::Process> daemon_;
  bool ready_ = false;
};

TEST(Clients, ContainerdCtrRunsWithBerthOciAsItsRuncBinary) {
  if (!have("/usr/bin/containerd") || !have("/usr/bin/podman"))
    GTEST_SKIP() << "containerd or podman missing";
  // An OCI archive of the busybox image, made with podman (private storage).
  Podman p;
  ASSERT_EQ(p.run({"import", ocitest::rootfs_tar(p.dir().path()), "localhost/berth-test:latest"})
                .exit_code,
            0);
  std::string archive = p.dir() / "image.tar";
  auto save =
      p.run({"save", "--format", "oci-archive", "-o", archive, "localhost/berth-test:latest"});
  ASSERT_EQ(save.exit_code, 0) << save.err;

  Containerd c;
  ASSERT_TRUE(c.ready()) << "containerd did not start";
  auto imp = c.ctr({"images", "import", "--base-name", "localhost/berth-test", archive});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  auto once =
      c.ctr({"run", "--rm", "--runc-binary", ocitest::berth_oci_bin(),
             "localhost/berth-test:latest", "once", "sh", "-c", "echo hello from ctr; exit 5"});
  EXPECT_EQ(once.exit_code, 5) << once.err;
  EXPECT_EQ(once.out, "hello from ctr\n");

  auto started = c.ctr({"run", "-d", "--runc-binary", ocitest::berth_oci_bin(),
                        "localhost/berth-test:latest", "boat", "sleep", "1000"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto ex = c.ctr({"task", "exec", "--exec-id", "e1", "boat", "sh", "-c", "echo exec ok"});
  EXPECT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_EQ(ex.out, "exec ok\n");
  EXPECT_EQ(c.ctr({"task", "pause", "boat"}).exit_code, 0);
  EXPECT_NE(c.ctr({"task", "ls"}).out.find("PAUSED"), std::string::npos);
  EXPECT_EQ(c.ctr({"task", "resume", "boat"}).exit_code, 0);
  EXPECT_EQ(c.ctr({"task", "kill", "--signal", "KILL", "boat"}).exit_code, 0);
  EXPECT_TRUE(e2e::eventually([&] {
    return c.ctr({"task", "ls"}).out.find("STOPPED") != std::string::npos;
  }));
  EXPECT_EQ(c.ctr({"task", "rm", "boat"}).exit_code, 0);
  EXPECT_EQ(c.ctr({"container", "rm", "boat"}).exit_code, 0);
}

}  // namespace
