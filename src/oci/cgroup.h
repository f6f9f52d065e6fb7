// A container's cgroup on any of the three host layouts:
//   v2      — one unified hierarchy at /sys/fs/cgroup;
//   v1      — one hierarchy per controller under /sys/fs/cgroup/<name>;
//   hybrid  — v1 controllers plus a v2 hierarchy at /sys/fs/cgroup/unified
//             (usually holding no controllers). The container joins both.
// cgroupsPath: absolute paths are relative to each hierarchy's root; relative
// ones to the runtime's own cgroup in that hierarchy; empty means "<id>"
// relative. Device rules are enforced by the v1 devices controller, or by an
// eBPF program attached to the v2 cgroup.
// Thread-safety: none needed; one Cgroup per runtime process.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/unique_fd.h"
#include "oci/resources.h"

namespace oci {

enum class CgroupLayout { kV1, kHybrid, kV2 };
const char* layout_name(CgroupLayout l);

class Cgroup {
 public:
  // Creates the directories (nothing is left behind on failure).
  static base::Result<Cgroup> create(const std::string& cgroups_path, const std::string& id);
  // The directories of that cgroup that exist now (none: nullopt), e.g. of a
  // runtime killed between making the cgroup and recording it.
  static base::Result<std::optional<Cgroup>> existing(const std::string& cgroups_path,
                                                      const std::string& id);
  // A cgroup recorded in a container's state (see to_json()).
  static base::Result<Cgroup> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;

  // Writes every resource; the first failure names the file and value.
  // `devices`: also install the device rules (create does; update does not).
  base::Status apply(const Resources& r, bool devices = true) const;
  base::Status add_process(pid_t pid) const;
  // How a new process enters the cgroup without the global lock that moving
  // another process takes (its first taker waits a whole RCU grace period,
  // 10-20 ms on a small VM): on v1 hierarchies it moves itself by writing
  // "0" to `tasks` (just its own thread, so it must have one), which the
  // kernel does without that lock; on v2 it is born there
  // (base::sys::clone_into_cgroup). The runtime opens the files, so the new
  // process's own credentials do not matter.
  struct Entry {
    std::vector<base::UniqueFd> tasks;  // each v1 hierarchy's `tasks`
    base::UniqueFd v2_dir;              // the v2 directory, if there is one
  };
  base::Result<Entry> open_entry() const;
  // In the new process: "0" to each of `tasks` (Entry::tasks), each closed then.
  static base::Status enter_self(const std::vector<int>& tasks);
  // After a clone that could not be born in the v2 directory: moves `pid`
  // there (0: the caller), through cgroup.procs, the way that takes the lock.
  base::Status add_to_v2(pid_t pid) const;
  base::Status freeze(bool frozen) const;
  bool frozen() const;
  // Every process in the cgroup (and its children).
  std::vector<pid_t> pids() const;
  // How many processes the kernel's OOM killer ended in it (memory.oom_control
  // on v1, memory.events on v2); 0 when the memory controller is not there.
  uint64_t oom_kills() const;
  // runc's `events --stats` "data" object: cpu, memory, pids, blkio, hugetlb.
  nlohmann::json stats() const;
  // Removes the directories; kills stragglers first when `kill` is set.
  base::Status destroy() const;

  CgroupLayout layout() const { return layout_; }

 private:
  // Directory of the hierarchy holding `controller`, or "" if none.
  std::string dir_for(const std::string& controller) const;
  base::Status write(const std::string& controller, const std::string& file,
                     const std::string& value) const;
  // Writes `value` and reads it back: a limit the kernel drops is an error
  // naming `field`, or only a warning when `dropped_is_error` is false.
  base::Status write_checked(const std::string& controller, const std::string& file, int64_t value,
                             const char* field, bool dropped_is_error) const;
  base::Status apply_v1(const Resources& r, bool devices) const;
  base::Status apply_v2(const Resources& r, bool devices) const;

  CgroupLayout layout_ = CgroupLayout::kV2;
  // v1: (comma-joined controller list, directory); v2/hybrid: ("", unified dir) too.
  std::vector<std::pair<std::string, std::string>> dirs_;
};

}  // namespace oci
