#include "berth/image/reference.h"

#include <cctype>

#include <fmt/format.h>

#include "berth/image/digest.h"

namespace berth {
namespace {

bool valid_path_component(const std::string& c) {
  if (c.empty() || !std::isalnum(static_cast<unsigned char>(c.front())) ||
      !std::isalnum(static_cast<unsigned char>(c.back())))
    return false;
  for (char ch : c)
    if (!(std::islower(static_cast<unsigned char>(ch)) ||
          std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
      return false;
  return true;
}

}  // namespace

std::string Reference::full() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string familiar_name(const std::string& full_name) {
  const std::string hub = "docker.io/", official = "docker.io/library/";
  if (full_name.rfind(official, 0) == 0) {
    std::string rest = full_name.substr(official.size());
    // "library/a/b" keeps its "library/": only one-part names are official.
    if (rest.substr(0, rest.find_first_of(":@")).find('/') == std::string::npos) return rest;
  }
  if (full_name.rfind(hub, 0) == 0) return full_name.substr(hub.size());
  return full_name;
}

base::Result<Reference> parse_reference(const std::string& text) {
  auto bad = [&](const char* why) {
    return base::fail_msg(fmt::format("image reference '{}': {}", text, why));
  };
  if (text.empty() || text.size() > 512) return bad("empty or too long");
  Reference r;
  std::string rest = text;
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    TRY_STATUS(check_digest(r.digest, "image reference '" + text + "'"));
    rest = rest.substr(0, at);
  }
  auto slash = rest.find('/');
  std::string first = rest.substr(0, slash);
  if (slash != std::string::npos &&
      (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
       first == "localhost")) {
    r.registry = first;
    rest = rest.substr(slash + 1);
  } else {
    r.registry = "docker.io";
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (r.tag.empty() || r.tag.size() > 128) return bad("bad tag");
    for (char ch : r.tag)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-'))
        return bad("bad tag");
  } else if (r.digest.empty()) {
    r.tag = "latest";
  }
  if (r.registry == "docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string::npos) end = rest.size();
    if (!valid_path_component(rest.substr(start, end - start)))
      return bad("repository names use lowercase letters, digits and . _ - between slashes");
    start = end + 1;
  }
  r.repository = rest;
  return r;
}

}  // namespace berth
