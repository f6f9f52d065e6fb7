// The three cgroup host layouts. This host is hybrid (v1 controllers plus a
// v2 hierarchy at /sys/fs/cgroup/unified); every other suite runs there. Here
// berth-oci runs in a private mount namespace that shows it a pure v2 host
// (the unified hierarchy bound over /sys/fs/cgroup) or a pure v1 host (the
// unified hierarchy unmounted). The container outlives those namespaces.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/oci/oci_harness.h"

namespace {
using nlohmann::json;
using ocitest::Bundle;

enum class Layout { kV1, kV2 };

e2e::ProcResult oci_on(Layout l, Bundle& b, std::vector<std::string> args) {
  std::string setup = l == Layout::kV2 ? "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup"
                                       : "umount /sys/fs/cgroup/unified";
  std::vector<std::string> argv = {"/usr/bin/unshare",
                                   "--mount",
                                   "--propagation",
                                   "private",
                                   "/bin/sh",
                                   "-c",
                                   setup + " && exec \"$@\"",
                                   "sh",
                                   ocitest::berth_oci_bin(),
                                   "--root",
                                   b.state_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Process(argv).wait(std::chrono::seconds(60));
}

// CAP_MKNOD lets the container make device nodes; the device rules must still refuse them.
void allow_mknod(Bundle& b) {
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_MKNOD");
}

std::string unified_dir(const Bundle& b) {
  return "/sys/fs/cgroup/unified/berth-oci-test/" + b.id();
}

TEST(CgroupLayouts, PureV2HostRunsPausesAndFiltersDevices) {
  if (!e2e::exists("/sys/fs/cgroup/unified/cgroup.procs"))
    GTEST_SKIP() << "no v2 hierarchy to show as a v2 host";
  Bundle b;
  allow_mknod(b);
  b.config["process"]["args"] = {
      "sh", "-c",
      "cat /proc/self/cgroup; head -c 1 /dev/zero | wc -c; mknod /tmp/mem c 1 1 && "
      "(head -c 1 /tmp/mem > /dev/null 2>&1 && echo READ || echo denied); sleep 1000"};
  b.save();
  ASSERT_EQ(oci_on(Layout::kV2, b, {"create", "--bundle", b.dir(), b.id()}).exit_code, 0);
  EXPECT_TRUE(e2e::exists(unified_dir(b) + "/cgroup.procs"))
      << "the container's cgroup is in the v2 hierarchy";
  ASSERT_EQ(oci_on(Layout::kV2, b, {"start", b.id()}).exit_code, 0);
  auto st = json::parse(oci_on(Layout::kV2, b, {"state", b.id()}).out);
  EXPECT_EQ(st["status"], "running");
  EXPECT_NE(
      e2e::read_file(unified_dir(b) + "/cgroup.procs").find(std::to_string(st["pid"].get<int>())),
      std::string::npos);

  ASSERT_EQ(oci_on(Layout::kV2, b, {"pause", b.id()}).exit_code, 0);
  EXPECT_NE(e2e::read_file(unified_dir(b) + "/cgroup.events").find("frozen 1"), std::string::npos);
  EXPECT_EQ(json::parse(oci_on(Layout::kV2, b, {"state", b.id()}).out)["status"], "paused");
  ASSERT_EQ(oci_on(Layout::kV2, b, {"resume", b.id()}).exit_code, 0);
  EXPECT_NE(e2e::read_file(unified_dir(b) + "/cgroup.events").find("frozen 0"), std::string::npos);

  ASSERT_EQ(oci_on(Layout::kV2, b, {"kill", b.id(), "KILL"}).exit_code, 0);
  ASSERT_TRUE(e2e::eventually([&] {
    return json::parse(oci_on(Layout::kV2, b, {"state", b.id()}).out)["status"] == "stopped";
  }));
  ASSERT_EQ(oci_on(Layout::kV2, b, {"delete", b.id()}).exit_code, 0);
  EXPECT_FALSE(e2e::exists(unified_dir(b)));
}

TEST(CgroupLayouts, PureV2HostDeviceProgramAndNamespaceView) {
  if (!e2e::exists("/sys/fs/cgroup/unified/cgroup.procs")) GTEST_SKIP();
  Bundle b;
  allow_mknod(b);
  b.config["process"]["args"] = {
      "sh", "-c",
      "grep '^0::' /proc/self/cgroup; head -c 1 /dev/zero | wc -c; mknod /tmp/mem c 1 1 && "
      "(head -c 1 /tmp/mem > /dev/null 2>&1 && echo READ || echo denied); "
      "grep ' /sys/fs/cgroup ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1"};
  b.save();
  auto r = oci_on(Layout::kV2, b, {"run", "--bundle", b.dir(), b.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0::/\n1\ndenied\ncgroup2\n");
}

TEST(CgroupLayouts, PureV2HostNamesAMissingController) {
  if (!e2e::exists("/sys/fs/cgroup/unified/cgroup.procs")) GTEST_SKIP();
  if (e2e::read_file("/sys/fs/cgroup/unified/cgroup.controllers").find("pids") != std::string::npos)
    GTEST_SKIP() << "the v2 hierarchy has a pids controller here";
  Bundle b;
  b.config["process"]["args"] = {"true"};
  b.config["linux"]["resources"]["pids"] = {{"limit", 10}};
  b.save();
  auto r = oci_on(Layout::kV2, b, {"create", "--bundle", b.dir(), b.id()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("linux.resources.pids: the pids controller is not available"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(e2e::exists(unified_dir(b)));
  EXPECT_FALSE(e2e::exists(b.state_root() + "/" + b.id()));
}

TEST(CgroupLayouts, PureV1Host) {
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
  b.config["process"]["args"] = {"sh", "-c",
                                 "ls /sys/fs/cgroup | grep -c unified; "
                                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"};
  b.save();
  auto r = oci_on(Layout::kV1, b, {"run", "--bundle", b.dir(), b.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n33554432\n");
  EXPECT_FALSE(e2e::exists(unified_dir(b))) << "a v1 host has no unified hierarchy to use";
}

}  // namespace
