// Error and Result<T>: failures are values that carry what was being done, on
// what, and why.
//
// An Error holds an errno (0 when the failure is not a system call's), the
// operation ("open", "connect"), the subject it was done to (a path, a peer),
// and optional detail text. As it travels up, callers add outer context with
// `context()`, so a user finally reads one line such as
//   "receive tree: open /srv/x/.a.ferry-part: No space left on device".
//
// Result<T> is tl::expected<T, Error>; Status is Result<void>. TRY(expr)
// unwraps a Result or returns its error from the enclosing function.
// Thread-safety: plain values; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace base {

class Error {
 public:
  Error() = default;
  // A system call failed with `code` (an errno value).
  static Error sys(int code, std::string_view op, std::string_view subject = {});
  // A failure that is not a system call's: `text` says what was wrong.
  static Error msg(std::string_view text);
  // Like msg(), with an errno-like `code` for callers that classify errors
  // (ECONNRESET for a lost connection, ETIMEDOUT for a stalled peer).
  static Error coded(int code, std::string_view text);

  int code() const { return code_; }
  // Adds an outer layer of context: "outer: <inner message>".
  Error& context(std::string_view outer) &;
  Error&& context(std::string_view outer) &&;

  // The one-line message for a user.
  std::string message() const;

 private:
  int code_ = 0;
  std::string text_;  // already-rendered message, innermost first
};

// [[nodiscard]]: a failure that nobody looks at is a bug, so ignoring a
// Result is a compile error; `(void)` says it is ignored on purpose.
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result(Base b) : Base(std::move(b)) {}  // NOLINT(google-explicit-constructor): map_error etc.
};
using Status = Result<void>;

inline tl::unexpected<Error> fail(Error e) {
  return tl::unexpected<Error>(std::move(e));
}
inline tl::unexpected<Error> fail_msg(std::string_view text) {
  return tl::unexpected<Error>(Error::msg(text));
}

}  // namespace base

// Unwraps a Result<T> (T non-void) or returns its error.
#define TRY(expr)                                                          \
  ({                                                                       \
    auto _try_result = (expr);                                             \
    if (!_try_result) return ::base::fail(std::move(_try_result).error()); \
    std::move(*_try_result);                                               \
  })

// Returns the error of a Status (or any Result whose value is not needed).
#define TRY_STATUS(expr)                                                   \
  do {                                                                     \
    auto _try_result = (expr);                                             \
    if (!_try_result) return ::base::fail(std::move(_try_result).error()); \
  } while (0)

// Like TRY_STATUS but wraps the error with outer context.
#define TRY_CTX(expr, ctx)                                                              \
  ({                                                                                    \
    auto _try_result = (expr);                                                          \
    if (!_try_result) return ::base::fail(std::move(_try_result).error().context(ctx)); \
    std::move(*_try_result);                                                            \
  })
