// NetnsScope: this thread inside a named network namespace (the file
// /run/netns/NAME that `ip netns add` makes) for as long as the scope lives.
// Sockets and devices made inside belong to that namespace and stay there
// after the thread leaves. leave() returns to the namespace the thread came
// from and says whether that worked; the destructor leaves if leave() was not
// called, and aborts the process if it cannot: running on in the wrong
// namespace would put every later device and socket in the wrong place.
// Thread-safety: affects the calling thread only; one thread per object.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace delay_line {

class NetnsScope {
 public:
  static base::Result<NetnsScope> enter(const std::string& name);
  NetnsScope(NetnsScope&& other) noexcept = default;
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  ~NetnsScope();

  base::Status leave();

 private:
  explicit NetnsScope(base::UniqueFd home) : home_(std::move(home)) {}
  base::UniqueFd home_;  // the namespace to return to; invalid once left
};

}  // namespace delay_line
