// A client of one repository on a registry speaking the distribution API v2
// (docker registry, Docker Hub, GHCR, Quay...). connect() finds the scheme
// (HTTPS; plain HTTP only when the registry is marked insecure), reads the
// auth challenge of GET /v2/ and, for "Bearer", fetches a token for
// "repository:<repo>:pull" (",push" to push) from the realm (with the saved
// credentials, if any); for "Basic" it sends the credentials. A 401 later (an
// expired token) gets one new token and a retry. Manifests are checked
// against their digest; blobs are streamed to a sink (the caller verifies
// them as it stores them). Uploads follow the spec's monolithic push: POST
// for an upload URL, one PUT of the whole blob.
// Credentials: the Authorization header goes only to the registry's own
// origin, wherever a Location header or redirect points; a 401 from another
// host (where a redirect led) is answered with no token fetch; the saved
// password goes only to the realm the registry itself names, and never over
// plain HTTP when the registry was reached over HTTPS.
// Thread-safety: manifest() and put_manifest() are for one thread; blob(),
// has_blob() and upload_blob() may be called from many threads at once (each
// call uses its own connection; the token is shared under a mutex).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "berth/registry/http_client.h"
#include "berth/registry/registry_auth.h"

namespace berth {

struct RegistryOptions {
  bool insecure = false;    // plain HTTP allowed and TLS not verified
  bool plain_http = false;  // plain HTTP allowed when HTTPS is not served; TLS still verified
  std::string ca_file;      // an extra CA for this registry (certs.d/<host>/ca.crt)
  std::optional<Credentials> credentials;
};

struct FetchedManifest {
  std::string body;  // the exact bytes: their digest is the manifest's
  std::string media_type;
  std::string digest;
};

class RegistryClient {
 public:
  // `registry` as in a reference ("docker.io", "127.0.0.1:5000").
  enum class Access { kPull, kPush };
  static base::Result<RegistryClient> connect(const std::string& registry,
                                              const std::string& repository,
                                              RegistryOptions options,
                                              Access access = Access::kPull);
  // Checks that `options.credentials` are accepted (berth login).
  static base::Status check_login(const std::string& registry, RegistryOptions options);

  RegistryClient(RegistryClient&& other) noexcept;

  // `reference` is a tag or a digest.
  base::Result<FetchedManifest> manifest(const std::string& reference);
  // Streams the blob's bytes to `sink`; `on_length` learns its size.
  base::Status blob(const std::string& digest, const BodySink& sink,
                    const std::function<void(uint64_t)>& on_length = {});

  // Pushing (connect with Access::kPush):
  // Whether the repository has the blob already.
  base::Result<bool> has_blob(const std::string& digest);
  // Uploads the first `size` bytes of `fd` as the blob `digest`.
  base::Status upload_blob(const std::string& digest, int fd, uint64_t size);
  // Stores the manifest `body` of `media_type` under `tag`; returns its
  // digest (the registry must agree on it).
  base::Result<std::string> put_manifest(const std::string& tag, const std::string& media_type,
                                         const std::string& body);

 private:
  RegistryClient() = default;
  // GET base_url_ + path with auth; renews the token once on 401.
  base::Result<HttpResponse> get(HttpClient& http, const std::string& path,
                                 const std::vector<std::string>& headers, const BodySink* sink,
                                 const std::function<void(uint64_t)>& on_length);
  // Sends `request` with auth when it goes to the registry's own origin;
  // renews the token once on 401.
  base::Result<HttpResponse> send(HttpClient& http, HttpRequest request);
  // The registry's origin ("https://host:port"), and whether `url` is on it.
  std::string origin() const;
  bool on_origin(const std::string& url) const;
  base::Status authenticate(const HttpResponse& unauthorized);
  std::string authorization() const;

  std::string registry_;
  std::string repository_;
  std::string base_url_;  // "https://host:port/v2/"
  RegistryOptions options_;
  Access access_ = Access::kPull;
  mutable std::mutex mu_;
  std::string authorization_;  // "Authorization: ..." or ""
};

// The error a registry put in its JSON body ({"errors":[{"code","message"}]}),
// or the HTTP status when there is none.
std::string registry_error_text(const HttpResponse& r);

}  // namespace berth
