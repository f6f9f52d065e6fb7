#include "oci/seccomp_filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"
#include "oci/json_fields.h"

namespace oci {
namespace {

struct ActionSpec {
  uint32_t action;
  bool ok;
};

base::Result<uint32_t> action_from(const std::string& name, std::optional<int64_t> errno_ret,
                                   const std::string& where) {
  int err = static_cast<int>(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY")
    return base::fail_msg(fmt::format(
        "{}: SCMP_ACT_NOTIFY needs a seccomp listener, which berth-oci does not provide", where));
  return base::fail_msg(fmt::format("{}: unknown action '{}'", where, name));
}

base::Result<scmp_compare> op_from(const std::string& name, const std::string& where) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return base::fail_msg(fmt::format("{}: unknown operator '{}'", where, name));
}

uint32_t arch_from(std::string name) {
  if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return seccomp_arch_resolve_name(name.c_str());
}

bool conditions_share_an_argument(const std::vector<scmp_arg_cmp>& args) {
  for (size_t i = 0; i < args.size(); ++i)
    for (size_t k = i + 1; k < args.size(); ++k)
      if (args[i].arg == args[k].arg) return true;
  return false;
}

}  // namespace

namespace {

// libseccomp takes ~25 ms to build a filter the size of Docker's profile,
// more than the rest of a container's start. Compiled programs are kept in
// /run (tmpfs, root's alone), one file per profile: the profile's exact
// text, then the program. A hit must match that text byte for byte, so the
// file name (a hash) only finds it; the directory is named after this
// binary (its inode and mtime), so a rebuilt runtime never reads an older
// one's programs. Any failure here only means compiling again.
std::string cache_path(const std::string& text) {
  struct stat self {};
  if (::stat("/proc/self/exe", &self) != 0) return "";
  return fmt::format("/run/berth-oci/seccomp/{:x}-{:x}-{:x}/{:016x}", self.st_dev, self.st_ino,
                     self.st_mtim.tv_sec * 1000000000LL + self.st_mtim.tv_nsec,
                     std::hash<std::string>{}(text));
}

std::optional<SeccompProgram> cached_program(const std::string& path, const std::string& text) {
  auto file = base::read_text_capped(path, size_t{16} << 20);
  if (!file) return std::nullopt;
  // "<text>\n<flags>\n<instructions>"
  if (file->size() < text.size() + 1 || file->compare(0, text.size(), text) != 0 ||
      (*file)[text.size()] != '\n')
    return std::nullopt;
  size_t nl = file->find('\n', text.size() + 1);
  if (nl == std::string::npos) return std::nullopt;
  SeccompProgram prog;
  std::string flags = file->substr(text.size() + 1, nl - text.size() - 1);
  if (flags.empty() || flags.size() > 10 ||
      flags.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  prog.flags = static_cast<unsigned>(std::stoul(flags));
  size_t bytes = file->size() - nl - 1;
  if (bytes == 0 || bytes % sizeof(sock_filter) != 0) return std::nullopt;
  prog.instructions.resize(bytes / sizeof(sock_filter));
  std::memcpy(prog.instructions.data(), file->data() + nl + 1, bytes);
  return prog;
}

void keep_program(const std::string& path, const std::string& text, const SeccompProgram& prog) {
  if (path.empty()) return;
  std::string dir = path.substr(0, path.rfind('/'));
  if (!base::make_dirs(dir) || ::chmod("/run/berth-oci", 0700) != 0) return;
  std::string file = text + "\n" + std::to_string(prog.flags) + "\n";
  file.append(reinterpret_cast<const char*>(prog.instructions.data()),
              prog.instructions.size() * sizeof(sock_filter));
  (void)base::replace_file(path, file);
}

base::Result<std::optional<SeccompProgram>> compile_uncached(const nlohmann::json& j);

}  // namespace

base::Result<std::optional<SeccompProgram>> compile_seccomp(const nlohmann::json& j) {
  if (j.is_null()) return std::optional<SeccompProgram>();
  std::string text = j.dump();
  std::string path = cache_path(text);
  if (!path.empty())
    if (auto hit = cached_program(path, text)) return hit;
  auto prog = TRY(compile_uncached(j));
  if (prog) keep_program(path, text, *prog);
  return prog;
}

namespace {

base::Result<std::optional<SeccompProgram>> compile_uncached(const nlohmann::json& j) {
  Fields f = TRY(Fields::object(j, "linux.seccomp"));
  std::string def = TRY(f.str("defaultAction", true));
  auto def_errno = TRY(f.integer("defaultErrnoRet", 0, 4095));
  uint32_t def_action = TRY(action_from(def, def_errno, f.at("defaultAction")));
  if (f.has("listenerPath") && !TRY(f.str("listenerPath", false)).empty())
    return base::fail_msg("linux.seccomp.listenerPath: seccomp notification is not supported");
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(def_action), seccomp_release);
  if (!ctx) return base::fail_msg("linux.seccomp: libseccomp could not start a filter");
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& a : TRY(f.strings("architectures"))) {
    uint32_t arch = arch_from(a);
    if (arch == 0)
      return base::fail_msg(fmt::format("linux.seccomp.architectures: unknown '{}'", a));
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST)
      return base::fail(
          base::Error::sys(-rc, "seccomp_arch_add", a).context("linux.seccomp.architectures"));
  }
  SeccompProgram prog;
  size_t rules_added = 0;
  for (const auto& flag : TRY(f.strings("flags"))) {
    if (flag == "SECCOMP_FILTER_FLAG_LOG")
      prog.flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
      prog.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else if (flag == "SECCOMP_FILTER_FLAG_TSYNC")
      prog.flags |= SECCOMP_FILTER_FLAG_TSYNC;
    else if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
      continue;  // only with notify
    else
      return base::fail_msg(fmt::format("linux.seccomp.flags: unknown flag '{}'", flag));
  }
  if (f.has("syscalls") && !f.raw("syscalls").is_array())
    return base::fail_msg("linux.seccomp.syscalls: must be an array");
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& calls = f.has("syscalls") ? f.raw("syscalls") : empty;
  for (size_t i = 0; i < calls.size(); ++i) {
    Fields s = TRY(Fields::object(calls[i], fmt::format("linux.seccomp.syscalls[{}]", i)));
    auto names = TRY(s.strings("names"));
    if (names.empty())
      return base::fail_msg(fmt::format("{}: must list at least one syscall", s.at("names")));
    uint32_t action = TRY(action_from(TRY(s.str("action", true)),
                                      TRY(s.integer("errnoRet", 0, 4095)), s.at("action")));
    std::vector<scmp_arg_cmp> args;
    auto parsed =
        TRY(s.list<scmp_arg_cmp>("args", [](const Fields& a) -> base::Result<scmp_arg_cmp> {
          scmp_arg_cmp c{};
          c.arg = static_cast<unsigned>(TRY(a.integer("index", 0, 5)).value_or(-1));
          if (!a.has("index")) return base::fail_msg(fmt::format("{}: required", a.at("index")));
          c.datum_a = TRY(a.u64("value", true));
          c.datum_b = TRY(a.u64("valueTwo", false));
          c.op = TRY(op_from(TRY(a.str("op", true)), a.at("op")));
          return c;
        }));
    args = parsed;
    if (action == def_action) continue;  // libseccomp refuses rules equal to the default
    // libseccomp refuses two conditions on one argument in one rule; like runc and
    // crun, such a rule becomes one rule per condition (any of them matches).
    std::vector<std::vector<scmp_arg_cmp>> rules{args};
    if (conditions_share_an_argument(args)) {
      rules.clear();
      for (const auto& c : args) rules.push_back({c});
    }
    for (const auto& name : names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture or kernel: nothing to filter
      for (const auto& rule : rules) {
        int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(rule.size()),
                                        rule.empty() ? nullptr : rule.data());
        if (rc != 0)
          return base::fail(base::Error::sys(-rc, "seccomp rule", name).context(s.at("names")));
        ++rules_added;
      }
    }
  }
  // A binary tree over syscall numbers, not one long chain: the kernel
  // emulates the program for every syscall number when it is loaded (its
  // allow-cache), so a profile of Docker's size (358 allowed syscalls)
  // loads in 0.21 ms instead of 0.69 ms, and each syscall the container
  // makes walks ~log n tests, not n. libseccomp before 2.5.4 mishandled a
  // tree without rules (its changelog: "empty binary trees"), so a tree is
  // asked for only with rules and a fixed library.
  constexpr bool kTreesAreSound =
      SCMP_VER_MAJOR > 2 ||
      (SCMP_VER_MAJOR == 2 && (SCMP_VER_MINOR > 5 || (SCMP_VER_MINOR == 5 && SCMP_VER_MICRO >= 4)));
  if (kTreesAreSound && rules_added > 0)
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0)
      return base::fail(
          base::Error::sys(-rc, "seccomp_attr_set", "optimize").context("linux.seccomp"));
  base::UniqueFd mem = TRY(base::sys::memfd_create("seccomp-bpf", 0, "seccomp"));
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc != 0)
    return base::fail(base::Error::sys(-rc, "seccomp_export_bpf", "linux.seccomp"));
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  prog.instructions.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  size_t got = TRY(base::sys::pread(mem.get(), prog.instructions.data(), static_cast<size_t>(size),
                                    0, "seccomp program"));
  if (got != static_cast<size_t>(size))
    return base::fail(base::Error::sys(EIO, "read", "seccomp program"));
  return std::optional<SeccompProgram>(std::move(prog));
}

}  // namespace

base::Status load_seccomp(const SeccompProgram& p) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(p.instructions.size());
  fprog.filter = const_cast<sock_filter*>(p.instructions.data());
  return base::sys::seccomp(SECCOMP_SET_MODE_FILTER, p.flags, &fprog, "load filter");
}

}  // namespace oci
