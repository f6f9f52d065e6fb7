#include "base/fault_injection.h"

#include <cstdlib>
#include <set>
#include <string>

#include <fmt/format.h>

namespace base {
namespace {

std::set<std::string, std::less<>> listed_faults() {
  std::set<std::string, std::less<>> out;
  const char* env = std::getenv("SHIPYARD_FAULTS");
  std::string_view text = env ? env : "";
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

}  // namespace

Status inject(std::string_view step) {
  static const std::set<std::string, std::less<>> faults = listed_faults();
  if (faults.empty() || faults.find(step) == faults.end()) return {};
  return fail_msg(fmt::format("{}: injected fault (SHIPYARD_FAULTS)", step));
}

}  // namespace base
