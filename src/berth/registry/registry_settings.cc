#include "berth/registry/registry_settings.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text_file.h"

namespace berth {
namespace {

base::Result<bool> listed_insecure(const std::string& root, const std::string& registry) {
  std::string path = root + "/registries.json";
  auto text = base::read_text(path);
  if (!text) {
    if (text.error().code() == ENOENT) return false;
    return base::fail(std::move(text).error());
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return base::fail_msg(fmt::format("{}: not a JSON object", path));
  if (!j.contains("insecure")) return false;
  if (!j["insecure"].is_array())
    return base::fail_msg(fmt::format("{}: insecure: must be an array of host:port", path));
  for (const auto& r : j["insecure"])
    if (r.is_string() && r.get<std::string>() == registry) return true;
  return false;
}

// docker's default: a registry on the loopback network (127.0.0.0/8, or
// localhost, which resolves there) may be reached over plain HTTP without
// being listed. berth still verifies TLS there when HTTPS is served.
bool loopback_registry(const std::string& registry) {
  if (registry.rfind("[::1]", 0) == 0) return true;
  std::string host = registry.substr(0, registry.find(':'));
  if (host == "localhost") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace

base::Result<RegistryOptions> registry_options(const std::string& root, const std::string& registry,
                                               bool insecure) {
  RegistryOptions o;
  o.insecure = insecure || TRY(listed_insecure(root, registry));
  o.plain_http = loopback_registry(registry);
  for (const auto& dir : {root + "/certs.d", std::string("/etc/berth/certs.d")}) {
    std::string ca = fmt::format("{}/{}/ca.crt", dir, registry);
    if (::access(ca.c_str(), R_OK) == 0) {
      o.ca_file = ca;
      break;
    }
  }
  o.credentials = TRY(CredentialStore(root).find(registry));
  return o;
}

}  // namespace berth
