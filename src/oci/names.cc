#include "oci/names.h"

#include <sys/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <utility>

#include <fmt/format.h>

namespace oci {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

constexpr std::array<std::pair<std::string_view, int>, 31> kSignals = {{
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"PWR", SIGPWR},
}};

}  // namespace

base::Result<int> rlimit_from_name(std::string_view name) {
  for (const auto& [n, v] : kRlimits)
    if (n == name) return v;
  return base::fail_msg(fmt::format("unknown rlimit '{}'", name));
}

base::Result<int> signal_from_name(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (!upper.empty() && std::all_of(upper.begin(), upper.end(), ::isdigit)) {
    int n = upper.size() <= 3 ? std::stoi(upper) : 0;
    if (n >= 1 && n <= SIGRTMAX) return n;
    return base::fail_msg(fmt::format("invalid signal number '{}'", name));
  }
  std::string_view s = upper;
  if (s.rfind("SIG", 0) == 0) s.remove_prefix(3);
  for (const auto& [n, v] : kSignals)
    if (n == s) return v;
  if (s.rfind("RTMIN", 0) == 0 || s.rfind("RTMAX", 0) == 0) {
    bool min = s[3] == 'I';
    std::string_view off = s.substr(5);
    int n = 0;
    if (!off.empty()) {
      if (off.size() < 2 || (off[0] != '+' && off[0] != '-') ||
          !std::all_of(off.begin() + 1, off.end(), ::isdigit) || off.size() > 3)
        return base::fail_msg(fmt::format("unknown signal '{}'", name));
      n = std::stoi(std::string(off));
    }
    int sig = (min ? SIGRTMIN : SIGRTMAX) + n;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return base::fail_msg(fmt::format("unknown signal '{}'", name));
}

base::Result<int> capability_from_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  cap_value_t v = 0;
  if (lower.rfind("cap_", 0) != 0 || cap_from_name(lower.c_str(), &v) != 0)
    return base::fail_msg(fmt::format("unknown capability '{}'", name));
  if (v > static_cast<cap_value_t>(cap_max_bits()) - 1)
    return base::fail_msg(fmt::format("capability '{}' is not supported by this kernel", name));
  return static_cast<int>(v);
}

std::vector<std::string> all_capability_names() {
  std::vector<std::string> out;
  for (cap_value_t v = 0; v < static_cast<cap_value_t>(cap_max_bits()); ++v) {
    char* n = cap_to_name(v);
    if (!n) continue;
    std::string s(n);
    cap_free(n);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace oci
