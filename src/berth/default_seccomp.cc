#include "berth/default_seccomp.h"

namespace berth {

nlohmann::json default_seccomp_profile() {
  // The calls Docker's documentation lists as blocked by its default profile
  // (docs.docker.com, "Seccomp security profiles for Docker"), for a
  // container with Docker's default capabilities.
  static const char* const kBlocked[] = {
      "acct",
      "add_key",
      "bpf",
      "clock_adjtime",
      "clock_settime",
      "create_module",
      "delete_module",
      "finit_module",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "get_kernel_syms",
      "get_mempolicy",
      "init_module",
      "ioperm",
      "iopl",
      "kcmp",
      "kexec_file_load",
      "kexec_load",
      "keyctl",
      "lookup_dcookie",
      "mbind",
      "mount",
      "mount_setattr",
      "move_mount",
      "move_pages",
      "name_to_handle_at",
      "nfsservctl",
      "open_by_handle_at",
      "open_tree",
      "perf_event_open",
      "pivot_root",
      "process_vm_readv",
      "process_vm_writev",
      "ptrace",
      "query_module",
      "quotactl",
      "reboot",
      "request_key",
      "set_mempolicy",
      "setns",
      "settimeofday",
      "stime",
      "swapoff",
      "swapon",
      "sysfs",
      "_sysctl",
      "umount",
      "umount2",
      "unshare",
      "uselib",
      "userfaultfd",
      "ustat",
      "vm86",
      "vm86old",
  };
  nlohmann::json names = nlohmann::json::array();
  for (const char* n : kBlocked) names.push_back(n);
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
          {"syscalls", {{{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
}

}  // namespace berth
