#include "ferry/remote_spec.h"

#include <fmt/format.h>

namespace ferry {

base::Result<Operand> parse_operand(std::string_view text, uint16_t default_port) {
  Operand op;
  if (text.empty()) return base::fail_msg("empty path operand");
  constexpr std::string_view kScheme = "ferry://";
  if (text.substr(0, kScheme.size()) == kScheme) {
    std::string_view rest = text.substr(kScheme.size());
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (authority.empty()) return base::fail_msg(fmt::format("'{}': missing host", text));
    op.server = TRY(net::parse_host_port(authority, default_port));
    op.remote = true;
    op.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    return op;
  }
  // [USER@]: an '@' before the first ':' and '/'.
  std::string user;
  size_t at = text.find('@');
  if (at != std::string_view::npos && at < text.find(':') && at < text.find('/')) {
    user = std::string(text.substr(0, at + 1));
    text = text.substr(at + 1);
    if (text.empty() || text.front() == ':')
      return base::fail_msg(fmt::format("'{}': missing host", user));
  }
  size_t colon;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      op.path = user + std::string(text);
      return op;
    }
    colon = close + 1;
    op.server.host = std::string(text.substr(1, close - 1));
  } else {
    colon = text.find(':');
    size_t slash = text.find('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon) ||
        colon == 0) {
      op.path = user + std::string(text);
      return op;
    }
    op.server.host = std::string(text.substr(0, colon));
  }
  op.remote = true;
  op.over_ssh = true;
  op.server.port = 0;
  op.ssh_destination = user + op.server.host;
  op.path = std::string(text.substr(colon + 1));
  return op;
}

}  // namespace ferry
