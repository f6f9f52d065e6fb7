// Registry authentication, as the distribution spec and docker do it:
//  - parse_challenge() reads a WWW-Authenticate header ("Bearer realm=...,
//    service=..., scope=..." or "Basic realm=...");
//  - Credentials are kept per registry host in <root>/auth.json in docker's
//    format ({"auths": {"host:port": {"auth": base64("user:password")}}}),
//    mode 0600, rewritten atomically (`berth login` / `logout`).
// Thread-safety: pure functions and plain values; the file is rewritten by rename.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/error.h"

namespace berth {

struct Challenge {
  std::string scheme;                         // "bearer" or "basic" (lower case)
  std::map<std::string, std::string> params;  // realm, service, scope, error...
};

// Returns nullopt when the header is empty or unreadable.
std::optional<Challenge> parse_challenge(const std::string& header);

struct Credentials {
  std::string username;
  std::string password;
};

std::string base64_encode(const std::string& bytes);
base::Result<std::string> base64_decode(const std::string& text);
// "Basic <base64(user:password)>"
std::string basic_authorization(const Credentials& c);

class CredentialStore {
 public:
  explicit CredentialStore(std::string root);  // <root>/auth.json
  // Credentials saved for `registry` ("host:port"), if any.
  base::Result<std::optional<Credentials>> find(const std::string& registry) const;
  base::Status save(const std::string& registry, const Credentials& c);
  // Returns false when there was nothing to remove.
  base::Result<bool> remove(const std::string& registry);

 private:
  std::string path_;
};

}  // namespace berth
