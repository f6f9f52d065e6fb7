#include "tools/delay_line/netns_scope.h"

#include <fcntl.h>
#include <sched.h>

#include <cstdlib>

#include "base/log.h"
#include "base/sys.h"

namespace delay_line {

base::Result<NetnsScope> NetnsScope::enter(const std::string& name) {
  auto home = TRY(base::sys::open("/proc/thread-self/ns/net", O_RDONLY));
  std::string path = "/run/netns/" + name;
  auto target = TRY(base::sys::open(path, O_RDONLY));
  TRY_STATUS(base::sys::setns(target.get(), CLONE_NEWNET, path));
  return NetnsScope(std::move(home));
}

base::Status NetnsScope::leave() {
  if (!home_.valid()) return {};
  TRY_STATUS(base::sys::setns(home_.get(), CLONE_NEWNET, "the original network namespace"));
  home_.reset();
  return {};
}

NetnsScope::~NetnsScope() {
  auto left = leave();
  if (!left) {
    base::log::error("{}", left.error().message());
    std::abort();
  }
}

}  // namespace delay_line
