#include "berth/registry/registry_client.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "berth/image/digest.h"
#include "berth/image/manifest.h"

namespace berth {
namespace {

std::string host_of(const std::string& registry) {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

HttpOptions http_options(const RegistryOptions& o) {
  return HttpOptions{!o.insecure, o.ca_file};
}

// A bearer token for `scopes` from the challenge's realm.
// A registry reached over HTTPS may not send the credentials to a realm
// over plain HTTP.
base::Result<std::string> fetch_token(const std::string& registry, const Challenge& c,
                                      const std::vector<std::string>& scopes,
                                      const RegistryOptions& o, bool over_https) {
  auto realm = c.params.find("realm");
  if (realm == c.params.end() || realm->second.empty())
    return base::fail_msg(
        fmt::format("registry {}: its Bearer challenge names no realm", registry));
  if (realm->second.rfind("https://", 0) != 0 &&
      (over_https || realm->second.rfind("http://", 0) != 0))
    return base::fail_msg(
        fmt::format("registry {}: its token realm '{}' is not HTTPS, as the registry is", registry,
                    realm->second));
  std::string url = realm->second;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (auto s = c.params.find("service"); s != c.params.end()) {
    url += fmt::format("{}service={}", sep, url_escape(s->second));
    sep = '&';
  }
  for (const auto& scope : scopes) {
    url += fmt::format("{}scope={}", sep, url_escape(scope));
    sep = '&';
  }
  std::vector<std::string> headers;
  if (o.credentials) headers.push_back("Authorization: " + basic_authorization(*o.credentials));
  HttpClient http(http_options(o));
  HttpResponse r = TRY_CTX(http.get(url, headers), fmt::format("registry {}: token", registry));
  if (r.status == 401 || r.status == 403)
    return base::fail_msg(fmt::format(
        "registry {}: the token server refused {} ({}){}", registry,
        o.credentials ? "the saved credentials" : "anonymous access", registry_error_text(r),
        o.credentials ? "" : fmt::format("; log in first: berth login {}", registry)));
  if (r.status != 200)
    return base::fail_msg(fmt::format("registry {}: token server {}: {}", registry, realm->second,
                                      registry_error_text(r)));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  for (const char* key : {"token", "access_token"})
    if (j.is_object() && j.contains(key) && j[key].is_string() &&
        !j[key].get<std::string>().empty())
      return j[key].get<std::string>();
  return base::fail_msg(
      fmt::format("registry {}: the token server's answer holds no token", registry));
}

// Pings /v2/ over HTTPS, then (insecure registries only) plain HTTP.
base::Result<std::pair<std::string, HttpResponse>> ping(const std::string& registry,
                                                        const RegistryOptions& o) {
  std::vector<std::string> schemes = {"https"};
  if (o.insecure || o.plain_http) schemes.push_back("http");
  std::optional<base::Error> first;  // HTTPS's, reported when plain HTTP fails too
  for (const auto& scheme : schemes) {
    std::string base = fmt::format("{}://{}/v2/", scheme, host_of(registry));
    HttpClient http(http_options(o));
    auto r = http.get(base, {});
    base::Error e;
    if (!r) {
      e = std::move(r).error();
    } else if (r->status != 200 && r->status != 401) {
      e = base::Error::msg(
          fmt::format("registry {}: GET {}: {}", registry, base, registry_error_text(*r)));
      if (scheme == "https" || !first) return base::fail(std::move(e));
    } else {
      return std::make_pair(base, std::move(*r));
    }
    if (!first) first = std::move(e);
  }
  bool plain_allowed = o.insecure || o.plain_http;
  return base::fail(std::move(*first).context(
      fmt::format("registry {}{}", registry,
                  plain_allowed ? "" : " (if it serves plain HTTP, pull with --insecure)")));
}

}  // namespace

std::string registry_error_text(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    // Any JSON may come back: only string fields are read.
    const auto& e = j["errors"][0];
    auto text = [&](const char* key) {
      return e.is_object() && e.contains(key) && e[key].is_string() ? e[key].get<std::string>()
                                                                    : std::string();
    };
    std::string code = text("code");
    std::string message = text("message");
    if (!code.empty() || !message.empty())
      return fmt::format("HTTP {} {}: {}", r.status, code, message);
  }
  return fmt::format("HTTP {}", r.status);
}

RegistryClient::RegistryClient(RegistryClient&& other) noexcept
    : registry_(std::move(other.registry_)),
      repository_(std::move(other.repository_)),
      base_url_(std::move(other.base_url_)),
      options_(std::move(other.options_)),
      access_(other.access_),
      authorization_(std::move(other.authorization_)) {}

base::Result<RegistryClient> RegistryClient::connect(const std::string& registry,
                                                     const std::string& repository,
                                                     RegistryOptions options, Access access) {
  auto [base, pong] = TRY(ping(registry, options));
  RegistryClient c;
  c.access_ = access;
  c.registry_ = registry;
  c.repository_ = repository;
  c.base_url_ = base;
  c.options_ = std::move(options);
  if (pong.status == 401) TRY_STATUS(c.authenticate(pong));
  return c;
}

base::Status RegistryClient::check_login(const std::string& registry, RegistryOptions options) {
  auto [base, pong] = TRY(ping(registry, options));
  if (pong.status != 401) return {};  // the registry asks for nothing
  auto challenge = parse_challenge(pong.header("www-authenticate"));
  if (!challenge)
    return base::fail_msg(fmt::format("registry {}: unreadable WWW-Authenticate '{}'", registry,
                                      pong.header("www-authenticate")));
  if (challenge->scheme == "bearer")
    return fetch_token(registry, *challenge, {}, options, base.rfind("https://", 0) == 0)
        .map([](auto&&) {});
  HttpClient http(http_options(options));
  auto r = TRY(http.get(base, {"Authorization: " + basic_authorization(*options.credentials)}));
  if (r.status != 200)
    return base::fail_msg(
        fmt::format("registry {}: login refused ({})", registry, registry_error_text(r)));
  return {};
}

std::string RegistryClient::authorization() const {
  std::lock_guard lock(mu_);
  return authorization_;
}

base::Status RegistryClient::authenticate(const HttpResponse& unauthorized) {
  std::string header = unauthorized.header("www-authenticate");
  auto challenge = parse_challenge(header);
  if (!challenge)
    return base::fail_msg(fmt::format(
        "registry {}: asks for authentication it does not name ('{}')", registry_, header));
  std::string value;
  if (challenge->scheme == "basic") {
    if (!options_.credentials)
      return base::fail_msg(
          fmt::format("registry {} needs credentials: berth login {}", registry_, registry_));
    value = basic_authorization(*options_.credentials);
  } else {
    std::vector<std::string> scopes = {fmt::format(
        "repository:{}:{}", repository_, access_ == Access::kPush ? "pull,push" : "pull")};
    // A 401 on a resource may ask for a further scope (multi-scope challenges).
    if (auto s = challenge->params.find("scope"); s != challenge->params.end()) {
      size_t start = 0;
      while (start < s->second.size()) {
        size_t space = s->second.find(' ', start);
        std::string one =
            s->second.substr(start, space == std::string::npos ? std::string::npos : space - start);
        if (!one.empty() && one != scopes.front()) scopes.push_back(one);
        if (space == std::string::npos) break;
        start = space + 1;
      }
    }
    value = "Bearer " + TRY(fetch_token(registry_, *challenge, scopes, options_,
                                        base_url_.rfind("https://", 0) == 0));
  }
  std::lock_guard lock(mu_);
  authorization_ = "Authorization: " + value;
  return {};
}

base::Result<HttpResponse> RegistryClient::get(HttpClient& http, const std::string& path,
                                               const std::vector<std::string>& headers,
                                               const BodySink* sink,
                                               const std::function<void(uint64_t)>& on_length) {
  std::string url = base_url_ + path;
  for (int attempt = 0;; ++attempt) {
    std::vector<std::string> all = headers;
    if (std::string a = authorization(); !a.empty()) all.push_back(a);
    HttpResponse r = TRY_CTX(http.get(url, all, sink, on_length), "registry " + registry_);
    // A 401 from where a redirect led (blob storage) is not the registry's
    // to answer with credentials.
    if (r.status != 401 || attempt == 1 || !on_origin(r.url)) return r;
    TRY_STATUS(authenticate(r));
  }
}

std::string RegistryClient::origin() const {
  return base_url_.substr(0, base_url_.size() - std::string("/v2/").size());
}

bool RegistryClient::on_origin(const std::string& url) const {
  return url.rfind(origin() + "/", 0) == 0;
}

base::Result<HttpResponse> RegistryClient::send(HttpClient& http, HttpRequest request) {
  // A Location elsewhere gets the request without credentials.
  bool own = on_origin(request.url);
  std::vector<std::string> headers = request.headers;
  for (int attempt = 0;; ++attempt) {
    request.headers = headers;
    if (std::string a = authorization(); own && !a.empty()) request.headers.push_back(a);
    HttpResponse r = TRY_CTX(http.send(request), "registry " + registry_);
    if (r.status != 401 || attempt == 1 || !own || !on_origin(r.url)) return r;
    TRY_STATUS(authenticate(r));
  }
}

base::Result<FetchedManifest> RegistryClient::manifest(const std::string& reference) {
  HttpClient http(http_options(options_));
  std::string where = fmt::format("{}/{}:{}", registry_, repository_, reference);
  if (reference.rfind("sha256:", 0) == 0)
    where = fmt::format("{}/{}@{}", registry_, repository_, reference);
  HttpResponse r = TRY(get(http, fmt::format("{}/manifests/{}", repository_, reference),
                           {media::accept_header()}, nullptr, {}));
  if (r.status == 404)
    return base::fail_msg(fmt::format("{}: not found ({})", where, registry_error_text(r)));
  if (r.status == 401 || r.status == 403)
    return base::fail_msg(fmt::format("{}: access denied ({}); berth login {} if it is private",
                                      where, registry_error_text(r), registry_));
  if (r.status != 200)
    return base::fail_msg(fmt::format("{}: manifest: {}", where, registry_error_text(r)));
  FetchedManifest m;
  m.body = std::move(r.body);
  Sha256 h;
  h.update(m.body.data(), m.body.size());
  m.digest = h.digest();
  if (reference.rfind("sha256:", 0) == 0 && m.digest != reference)
    return base::fail_msg(
        fmt::format("{}: manifest digest mismatch: the registry sent {}", where, m.digest));
  if (std::string said = r.header("docker-content-digest");
      !said.empty() && said.rfind("sha256:", 0) == 0 && said != m.digest)
    return base::fail_msg(
        fmt::format("{}: manifest digest mismatch: Docker-Content-Digest says {}, the bytes are {}",
                    where, said, m.digest));
  m.media_type = manifest_media_type(m.body, r.header("content-type"));
  return m;
}

base::Status RegistryClient::blob(const std::string& digest, const BodySink& sink,
                                  const std::function<void(uint64_t)>& on_length) {
  HttpClient http(http_options(options_));
  HttpResponse r =
      TRY(get(http, fmt::format("{}/blobs/{}", repository_, digest), {}, &sink, on_length));
  if (r.status != 200)
    return base::fail_msg(
        fmt::format("{}/{}: blob {}: {}", registry_, repository_, digest, registry_error_text(r)));
  return {};
}

base::Result<bool> RegistryClient::has_blob(const std::string& digest) {
  HttpClient http(http_options(options_));
  HttpRequest head;
  head.method = "HEAD";
  head.url = fmt::format("{}{}/blobs/{}", base_url_, repository_, digest);
  HttpResponse r = TRY(send(http, std::move(head)));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return base::fail_msg(
      fmt::format("{}/{}: blob {}: {}", registry_, repository_, digest, registry_error_text(r)));
}

base::Status RegistryClient::upload_blob(const std::string& digest, int fd, uint64_t size) {
  std::string where = fmt::format("{}/{}: upload of blob {}", registry_, repository_, digest);
  HttpClient http(http_options(options_));
  std::string uploads = fmt::format("{}{}/blobs/uploads/", base_url_, repository_);
  HttpRequest start;
  start.method = "POST";
  start.url = uploads;
  HttpResponse started = TRY(send(http, std::move(start)));
  if (started.status == 401 || started.status == 403)
    return base::fail_msg(fmt::format("{}: access denied ({}); berth login {}", where,
                                      registry_error_text(started), registry_));
  if (started.status != 202)
    return base::fail_msg(fmt::format("{}: {}", where, registry_error_text(started)));
  // The upload's URL: absolute, a path on the registry's origin, or relative
  // to the POST's URL; never plain HTTP from a registry reached over HTTPS.
  std::string location = started.header("location");
  bool to_http = location.rfind("http://", 0) == 0;
  bool absolute = to_http || location.rfind("https://", 0) == 0;
  if (to_http && base_url_.rfind("https://", 0) == 0)
    return base::fail_msg(
        fmt::format("{}: the registry sends the upload to plain HTTP ({})", where, location));
  if (!absolute) {
    if (location.empty() || location.rfind("//", 0) == 0 ||
        location.find("://") != std::string::npos)
      return base::fail_msg(fmt::format(
          "{}: the registry gave no usable upload URL (Location '{}')", where, location));
    location = location[0] == '/' ? origin() + location : uploads + location;
  }
  HttpRequest put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + url_escape(digest);
  put.headers = {"Content-Type: application/octet-stream"};
  put.body_fd = fd;
  put.body_size = size;
  HttpResponse done = TRY(send(http, std::move(put)));
  if (done.status != 201)
    return base::fail_msg(fmt::format("{}: {}", where, registry_error_text(done)));
  if (std::string said = done.header("docker-content-digest"); !said.empty() && said != digest)
    return base::fail_msg(fmt::format("{}: the registry stored it as {}", where, said));
  return {};
}

base::Result<std::string> RegistryClient::put_manifest(const std::string& tag,
                                                       const std::string& media_type,
                                                       const std::string& body) {
  std::string where = fmt::format("{}/{}:{}", registry_, repository_, tag);
  Sha256 h;
  h.update(body.data(), body.size());
  std::string digest = h.digest();
  HttpClient http(http_options(options_));
  HttpRequest put;
  put.method = "PUT";
  put.url = fmt::format("{}{}/manifests/{}", base_url_, repository_, tag);
  put.headers = {"Content-Type: " + media_type};
  put.body = body;
  HttpResponse r = TRY(send(http, std::move(put)));
  if (r.status == 401 || r.status == 403)
    return base::fail_msg(fmt::format("{}: access denied ({}); berth login {}", where,
                                      registry_error_text(r), registry_));
  if (r.status != 201 && r.status != 200)
    return base::fail_msg(fmt::format("{}: manifest: {}", where, registry_error_text(r)));
  if (std::string said = r.header("docker-content-digest"); !said.empty() && said != digest)
    return base::fail_msg(fmt::format(
        "{}: the registry stored the manifest as {}, its bytes are {}", where, said, digest));
  return digest;
}

}  // namespace berth
