#include "oci/device_filter.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace oci {
namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_u32(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_W | BPF_MEM, dst, 1, off, 0);
}
bpf_insn mov_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn alu_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t skip) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, skip, imm);
}
bpf_insn ret(int32_t value) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, value);
}
bpf_insn exit_insn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int access_mask(const std::string& access) {
  int m = 0;
  for (char c : access)
    m |= c == 'm' ? BPF_DEVCG_ACC_MKNOD : c == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
  return m;
}

// Registers: r3 = device type, r4 = requested access, r5 = major, r6 = minor.
void emit_rule(const DeviceRule& r, std::vector<bpf_insn>& out) {
  // Each check jumps past the rest of this rule's block when it does not match.
  std::vector<bpf_insn> checks;
  std::vector<size_t> jumps;
  if (r.type != 'a') {
    jumps.push_back(checks.size());
    checks.push_back(
        jump_imm(BPF_JNE, 3, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
  }
  int mask = access_mask(r.access);
  if (mask != 7) {
    checks.push_back(mov_reg(7, 4));
    if (r.allow) {  // allow only requests wholly inside the rule's access
      checks.push_back(alu_imm(BPF_AND, 7, ~mask & 7));
      jumps.push_back(checks.size());
      checks.push_back(jump_imm(BPF_JNE, 7, 0, 0));
    } else {  // deny requests that touch any denied access
      checks.push_back(alu_imm(BPF_AND, 7, mask));
      jumps.push_back(checks.size());
      checks.push_back(jump_imm(BPF_JEQ, 7, 0, 0));
    }
  }
  if (r.major >= 0) {
    jumps.push_back(checks.size());
    checks.push_back(jump_imm(BPF_JNE, 5, static_cast<int32_t>(r.major), 0));
  }
  if (r.minor >= 0) {
    jumps.push_back(checks.size());
    checks.push_back(jump_imm(BPF_JNE, 6, static_cast<int32_t>(r.minor), 0));
  }
  checks.push_back(ret(r.allow ? 1 : 0));
  checks.push_back(exit_insn());
  for (size_t j : jumps) checks[j].off = static_cast<int16_t>(checks.size() - j - 1);
  out.insert(out.end(), checks.begin(), checks.end());
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> p = {
      load_u32(2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      mov_reg(3, 2),
      alu_imm(BPF_AND, 3, 0xffff),
      mov_reg(4, 2),
      alu_imm(BPF_RSH, 4, 16),
      load_u32(5, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(6, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // The last matching rule decides, so test rules from the last one back. A rule
  // that matches everything ends the program (the verifier rejects dead code).
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    emit_rule(*it, p);
    if (it->type == 'a' && access_mask(it->access) == 7 && it->major < 0 && it->minor < 0) return p;
  }
  p.push_back(ret(0));
  p.push_back(exit_insn());
  return p;
}

namespace {

// Loads the program; with a log buffer only to explain a failure (the
// verifier's log of a good program can be longer than any fixed buffer).
base::Result<base::UniqueFd> load_program(const std::vector<bpf_insn>& prog,
                                          std::vector<char>* log) {
  static char license[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>(license);
  if (log) {
    load.log_buf = reinterpret_cast<uint64_t>(log->data());
    load.log_size = static_cast<uint32_t>(log->size());
    load.log_level = 1;
  }
  int fd = TRY(base::sys::bpf(BPF_PROG_LOAD, &load, sizeof(load), "load"));
  return base::UniqueFd(fd);
}

}  // namespace

base::Status attach_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> prog = device_filter_program(rules);
  auto loaded = load_program(prog, nullptr);
  if (!loaded) {
    int err = loaded.error().code();
    std::vector<char> log(1 << 20);
    if (!load_program(prog, &log) && std::strlen(log.data()) > 0) {
      std::string text(log.data());
      auto last = text.find_last_of('\n', text.size() - 2);
      return base::fail_msg("load device filter: " +
                            text.substr(last == std::string::npos ? 0 : last + 1));
    }
    return base::fail(base::Error::sys(err, "bpf load", "device filter"));
  }
  base::UniqueFd prog_fd = std::move(*loaded);
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (auto attached = base::sys::bpf(BPF_PROG_ATTACH, &attach, sizeof(attach)); !attached)
    return base::fail(base::Error::sys(attached.error().code(), "bpf attach", "device filter"));
  return {};
}

}  // namespace oci
