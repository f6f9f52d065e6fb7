#include "base/process_identity.h"

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "base/text_file.h"

namespace base {

namespace {

// /proc/<pid>/stat from field 3 (the state) on, or "" when there is no such
// process. The command (field 2) may hold any byte, ')' too: the fields
// start after the last ')'.
std::string stat_fields(pid_t pid) {
  if (pid <= 0) return {};
  auto text = read_text(fmt::format("/proc/{}/stat", pid));
  if (!text) return {};
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return {};
  return text->substr(close + 2);
}

}  // namespace

uint64_t process_start_time(pid_t pid) {
  // Fields after the command: state is field 3; start time is field 22.
  std::string rest = stat_fields(pid);
  if (rest.empty()) return 0;
  if (rest[0] == 'Z' || rest[0] == 'X') return 0;  // exited, not yet reaped
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = rest.find(' ', pos);
    if (pos == std::string::npos) return 0;
    ++pos;
  }
  return std::strtoull(rest.c_str() + pos, nullptr, 10);
}

char process_state(pid_t pid) {
  std::string rest = stat_fields(pid);
  return rest.empty() ? '\0' : rest[0];
}

bool ProcessIdentity::alive() const {
  return pid > 0 && start_time != 0 && process_start_time(pid) == start_time;
}

}  // namespace base
