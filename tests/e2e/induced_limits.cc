#include "tests/e2e/induced_limits.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sstream>

#include <fmt/format.h>

#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string unique_name() {
  static int seq = 0;
  return fmt::format("ferry-test-{}-{}", getpid(), seq++);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TestCgroup::TestCgroup(const std::string& v1_controller, const std::string& v2_controller) {
  std::string v1 = "/sys/fs/cgroup/" + v1_controller;
  if (is_dir(v1) && exists(v1 + "/cgroup.procs")) {
    dir_ = v1 + "/" + unique_name();
  } else {
    // Pure v2: the controller must be enabled for the root's children.
    v2_ = true;
    sh(
        fmt::format("grep -qw {0} /sys/fs/cgroup/cgroup.controllers && "
                    "echo +{0} > /sys/fs/cgroup/cgroup.subtree_control",
                    v2_controller));
    dir_ = "/sys/fs/cgroup/" + unique_name();
  }
  if (mkdir(dir_.c_str(), 0755) != 0) ADD_FAILURE() << "mkdir " << dir_;
}

TestCgroup::~TestCgroup() {
  // The test's processes have ended; anything left over is killed first.
  std::istringstream procs(exists(dir_ + "/cgroup.procs") ? read_file(dir_ + "/cgroup.procs") : "");
  for (pid_t pid; procs >> pid;)
    if (pid > 0) kill(pid, SIGKILL);
  for (int i = 0; i < 100 && rmdir(dir_.c_str()) != 0; ++i) usleep(20000);
}

std::vector<std::string> TestCgroup::wrap(std::vector<std::string> argv) const {
  std::vector<std::string> out = {
      "/bin/sh", "-c", fmt::format("echo $$ > {}/cgroup.procs && exec \"$@\"", dir_), "in-cgroup"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

CpuQuota::CpuQuota(int percent) : cg_("cpu", "cpu") {
  int period = 100000, quota = period * percent / 100;
  if (cg_.v2()) {
    write_file(cg_.dir() + "/cpu.max", fmt::format("{} {}", quota, period));
  } else {
    write_file(cg_.dir() + "/cpu.cfs_period_us", std::to_string(period));
    write_file(cg_.dir() + "/cpu.cfs_quota_us", std::to_string(quota));
  }
}

ThrottledDisk::ThrottledDisk(uint64_t read_bps, uint64_t write_bps)
    : image_(dir_ / "disk.img"), mnt_(dir_ / "mnt"), cg_("blkio", "io") {
  mkdir(mnt_.c_str(), 0755);
  sh(fmt::format("truncate -s 256M {} && mkfs.ext4 -q -F {}", image_, image_));
  Process lo({"/usr/sbin/losetup", "--find", "--show", image_});
  auto r = lo.wait();
  loop_ = trim(r.out);
  if (r.exit_code != 0 || loop_.empty()) {
    ADD_FAILURE() << "losetup: " << r.err;
    return;
  }
  sh(fmt::format("mount -o sync {} {}", loop_, mnt_));
  struct stat st {};
  if (stat(loop_.c_str(), &st) != 0) ADD_FAILURE() << "stat " << loop_;
  std::string dev = fmt::format("{}:{}", major(st.st_rdev), minor(st.st_rdev));
  if (cg_.v2()) {
    std::string limits = dev;
    if (read_bps) limits += fmt::format(" rbps={}", read_bps);
    if (write_bps) limits += fmt::format(" wbps={}", write_bps);
    write_file(cg_.dir() + "/io.max", limits);
  } else {
    if (read_bps)
      write_file(cg_.dir() + "/blkio.throttle.read_bps_device",
                 fmt::format("{} {}", dev, read_bps));
    if (write_bps)
      write_file(cg_.dir() + "/blkio.throttle.write_bps_device",
                 fmt::format("{} {}", dev, write_bps));
  }
}

ThrottledDisk::~ThrottledDisk() {
  Process({"/bin/sh", "-c", fmt::format("umount {0}; losetup -d {1}", mnt_, loop_)}).wait();
}

void ThrottledDisk::drop_cache() {
  sh(fmt::format("umount {0} && mount -o sync {1} {0}", mnt_, loop_));
}

}  // namespace e2e
