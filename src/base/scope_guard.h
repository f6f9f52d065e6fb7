// ScopeGuard: runs a function when the scope ends unless dismissed. Used to
// undo partial work (a temporary file, a mount, a link) on an error path.
#pragma once

#include <utility>

namespace base {

template <typename F>
class ScopeGuard {
 public:
  explicit ScopeGuard(F f) : f_(std::move(f)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (armed_) f_();
  }
  void dismiss() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace base
