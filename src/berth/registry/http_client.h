// A small HTTP(S) client over libcurl for the registry: GET, HEAD, POST and
// PUT; request headers and an optional body (bytes, or a file's first N
// bytes) in, status and response headers out, the response body either
// streamed to a sink (large blobs) or collected (manifests, tokens, error
// bodies; capped at 8 MiB). A GET or HEAD follows redirects (blob storage
// often redirects) without carrying the Authorization header to another
// host; an upload does not follow them. A connection that stalls for 60 s is
// dropped. TLS is verified against the system CAs, plus `ca_file` when given;
// `verify_tls = false` turns verification off (insecure registries only).
// Thread-safety: one HttpClient per thread; each keeps its own connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace berth {

struct HttpOptions {
  bool verify_tls = true;
  std::string ca_file;
};

struct HttpResponse {
  long status = 0;
  std::string url;                             // where the answer came from, after any redirects
  std::map<std::string, std::string> headers;  // names in lower case; the last value wins
  std::string body;                            // when no sink took it
  std::string header(const std::string& lower_name) const;
};

// Receives body bytes of a 2xx response; an error aborts the transfer.
using BodySink = std::function<base::Status(const char* data, size_t len)>;

// Percent-encodes `text` for a URL query value.
std::string url_escape(const std::string& text);

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST or PUT
  std::string url;
  std::vector<std::string> headers;
  // The body: `body` bytes, or with `body_fd` >= 0 the first `body_size`
  // bytes of that file (read with pread from offset 0; the fd stays the
  // caller's). A file that is shorter fails the request.
  std::string body;
  int body_fd = -1;
  uint64_t body_size = 0;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GETs `url`. With `sink`, a 2xx body goes to it (other bodies are kept in
  // `body` for the error message). `on_length` learns the Content-Length.
  base::Result<HttpResponse> get(const std::string& url, const std::vector<std::string>& headers,
                                 const BodySink* sink = nullptr,
                                 const std::function<void(uint64_t)>& on_length = {});
  // Sends `request`; the response body is collected (as get() without a sink).
  base::Result<HttpResponse> send(const HttpRequest& request);

 private:
  base::Result<HttpResponse> perform(const HttpRequest& request, const BodySink* sink,
                                     const std::function<void(uint64_t)>& on_length);
  struct Handle;
  std::unique_ptr<Handle> handle_;
  HttpOptions options_;
};

}  // namespace berth
