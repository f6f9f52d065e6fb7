#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace base::log {
namespace {
std::string g_program = "shipyard";
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}  // namespace

void set_program(std::string_view name) {
  g_program = std::string(name);
}
void set_level(Level level) {
  g_level = static_cast<int>(level);
}
bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void write(Level level, std::string_view text) {
  std::string line = g_program;
  line += level == Level::kWarn ? ": warning: " : level == Level::kDebug ? ": debug: " : ": ";
  line += text;
  line += '\n';
  // One write per line keeps lines whole when threads log at once.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace base::log
