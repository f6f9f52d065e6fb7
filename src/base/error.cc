#include "base/error.h"

#include <cstring>

namespace base {

Error Error::sys(int code, std::string_view op, std::string_view subject) {
  Error e;
  e.code_ = code;
  e.text_ = std::string(op);
  if (!subject.empty()) {
    e.text_ += ' ';
    e.text_ += subject;
  }
  e.text_ += ": ";
  e.text_ += std::strerror(code);
  return e;
}

Error Error::msg(std::string_view text) {
  Error e;
  e.text_ = std::string(text);
  return e;
}

Error Error::coded(int code, std::string_view text) {
  Error e = msg(text);
  e.code_ = code;
  return e;
}

Error& Error::context(std::string_view outer) & {
  if (!outer.empty()) text_ = std::string(outer) + ": " + text_;
  return *this;
}

Error&& Error::context(std::string_view outer) && {
  context(outer);
  return std::move(*this);
}

std::string Error::message() const {
  return text_;
}

}  // namespace base
