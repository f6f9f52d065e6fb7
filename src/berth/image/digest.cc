#include "berth/image/digest.h"

#include <fmt/format.h>

namespace berth {

base::Status check_digest(std::string_view digest, std::string_view what) {
  bool ok = digest.size() == 71 && digest.substr(0, 7) == "sha256:";
  for (size_t i = 7; ok && i < digest.size(); ++i)
    ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
  if (!ok) return base::fail_msg(fmt::format("{}: '{}' is not a sha256 digest", what, digest));
  return {};
}

std::string digest_hex(std::string_view digest) {
  return std::string(digest.substr(7));
}

}  // namespace berth
