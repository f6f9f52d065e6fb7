#include "tests/oci/oci_harness.h"

#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace ocitest {
namespace fs = std::filesystem;

std::string berth_oci_bin() {
  return BERTH_OCI_BIN;
}

std::string unique_id() {
  static std::atomic<int> n{0};
  return fmt::format("t{}-{}", ::getpid(), n++);
}

Bundle::Bundle() : id_(unique_id()) {
  std::string rootfs = dir_ / "rootfs";
  // Readable by the ids a user namespace maps root to.
  fs::permissions(dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  fs::create_directories(rootfs + "/bin");
  for (const char* d : {"proc", "sys", "dev", "tmp", "etc", "root"})
    fs::create_directories(rootfs + "/" + d);
  fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
  e2e::Process list({"/bin/busybox", "--list"});
  std::string applets = list.wait().out;
  size_t start = 0;
  while (start < applets.size()) {
    size_t end = applets.find('\n', start);
    if (end == std::string::npos) end = applets.size();
    std::string name = applets.substr(start, end - start);
    if (!name.empty() && name != "busybox") fs::create_symlink("busybox", rootfs + "/bin/" + name);
    start = end + 1;
  }
  e2e::write_file(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  auto spec = e2e::Process({berth_oci_bin(), "spec", "--bundle", dir()}).wait();
  EXPECT_EQ(spec.exit_code, 0) << spec.err;
  config = nlohmann::json::parse(e2e::read_file(dir_ / "config.json"));
  config["process"]["terminal"] = false;
  config["root"]["readonly"] = false;
  config["linux"]["cgroupsPath"] = "/berth-oci-test/" + id_;
}

Bundle::~Bundle() {
  oci({"delete", "--force", id_});
  std::error_code ec;
  for (const char* h : {"memory", "cpu", "pids", "freezer", "devices", "blkio", "cpuset", "cpuacct",
                        "unified", ""}) {
    fs::remove(fmt::format("/sys/fs/cgroup/{}/berth-oci-test/{}", h, id_), ec);
    fs::remove(fmt::format("/sys/fs/cgroup/{}/berth-oci-test", h),
               ec);  // fails while other tests use it
  }
}

void Bundle::save() {
  e2e::write_file(dir_ / "config.json", config.dump(2));
}

e2e::ProcResult Bundle::oci(std::vector<std::string> args) {
  std::vector<std::string> argv = {berth_oci_bin(), "--root", state_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Process(argv).wait(std::chrono::seconds(60));
}

e2e::ProcResult Bundle::run_sh(const std::string& script) {
  config["process"]["args"] = {"sh", "-c", script};
  return run();
}

e2e::ProcResult Bundle::run() {
  save();
  return oci({"run", "--bundle", dir(), id_});
}

int Bundle::start_sleeping() {
  config["process"]["args"] = {"sleep", "1000"};
  save();
  std::string pid_file = dir_ / "pid";
  auto c = oci({"create", "--bundle", dir(), "--pid-file", pid_file, id_});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  auto s = oci({"start", id_});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  return std::atoi(e2e::read_file(pid_file).c_str());
}

std::string Bundle::status() {
  auto r = oci({"state", id_});
  if (r.exit_code != 0) return "";
  return nlohmann::json::parse(r.out).value("status", "");
}

std::string status_field(const std::string& text, const std::string& name) {
  auto pos = text.find(name + ":");
  if (pos == std::string::npos) return "";
  pos += name.size() + 1;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  return text.substr(pos, text.find('\n', pos) - pos);
}

std::string cap_mask(std::initializer_list<int> caps) {
  uint64_t m = 0;
  for (int c : caps) m |= 1ULL << c;
  return fmt::format("{:016x}", m);
}

std::string rootfs_tar(const std::string& dir) {
  Bundle b;  // only for its rootfs
  std::string tar = dir + "/rootfs.tar";
  auto r = e2e::Process({"/bin/tar", "-C", b.rootfs(), "-cf", tar, "."}).wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return tar;
}

void unmount_below(const std::string& dir) {
  std::vector<std::string> points;
  std::ifstream in("/proc/self/mounts");
  std::string dev, point, rest;
  while (in >> dev >> point && std::getline(in, rest))
    if (point == dir || point.rfind(dir + "/", 0) == 0) points.push_back(point);
  for (auto it = points.rbegin(); it != points.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
}

bool cgroup_dir_exists(const std::string& id) {
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) {
    std::error_code ec;
    if (fs::exists(h.path() / "berth-oci-test" / id, ec)) return true;
  }
  return false;
}

}  // namespace ocitest
