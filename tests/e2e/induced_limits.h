// Real limits for the diagnosis tests, each made by the kernel and undone by
// the destructor:
//   CpuQuota     — a cgroup with a CPU quota (v1 "cpu" controller, or v2
//                  cpu.max), which a command joins through wrap();
//   ThrottledDisk — an ext4 filesystem on a loop device, mounted `sync`, and
//                  a cgroup whose reads and writes to it are throttled (v1
//                  blkio.throttle.*, or v2 io.max); drop_cache() remounts it
//                  so that the next read comes from the device.
// Both work on this machine's hybrid hierarchy and on a pure cgroup v2 one.
#pragma once

#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace e2e {

// A cgroup under the hierarchy holding `controller` ("cpu" or "io"/"blkio");
// the command that wrap() prefixes joins it before it execs. Removed (with
// any process left in it killed) on destruction.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& v1_controller, const std::string& v2_controller);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  bool v2() const { return v2_; }
  // The directory of the cgroup, for its interface files.
  const std::string& dir() const { return dir_; }
  // argv prefix: the rest of the argv runs inside the cgroup.
  std::vector<std::string> wrap(std::vector<std::string> argv) const;

 private:
  bool v2_ = false;
  std::string dir_;
};

class CpuQuota {
 public:
  // `percent` of one CPU.
  explicit CpuQuota(int percent);
  std::vector<std::string> wrap(std::vector<std::string> argv) const { return cg_.wrap(argv); }

 private:
  TestCgroup cg_;
};

class ThrottledDisk {
 public:
  // `read_bps` / `write_bps`: 0 for no limit that way.
  ThrottledDisk(uint64_t read_bps, uint64_t write_bps);
  ~ThrottledDisk();
  ThrottledDisk(const ThrottledDisk&) = delete;
  ThrottledDisk& operator=(const ThrottledDisk&) = delete;
  // Where the filesystem is mounted.
  const std::string& mount_point() const { return mnt_; }
  std::string operator/(const std::string& rel) const { return mnt_ + "/" + rel; }
  // Unmounts and mounts again: nothing of it stays in the page cache.
  void drop_cache();
  std::vector<std::string> wrap(std::vector<std::string> argv) const { return cg_.wrap(argv); }

 private:
  TempDir dir_;
  std::string image_, mnt_, loop_;
  TestCgroup cg_;
};

}  // namespace e2e
