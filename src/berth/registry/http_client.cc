#include "berth/registry/http_client.h"

// Calls go through a table of pointers (see curl()), which curl's type-checking macros would
// rewrite.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "base/lazy_library.h"
#include "base/sys.h"

namespace berth {
namespace {

// libcurl is loaded on first use, not at program start: linked in, it (and
// the TLS, LDAP and Kerberos libraries it pulls in, whose constructors run at
// load) adds ~30 ms to every berth command, though only pull and login use it.
// clang-format off
#define CURL_CALLS(X)                                                                  \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset)        \
  X(curl_easy_setopt) X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_strerror) \
  X(curl_easy_escape) X(curl_free) X(curl_slist_append) X(curl_slist_free_all)
// clang-format on
struct Curl {
  CURL_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};

const Curl& curl() {
  static const Curl table = [] {
    Curl t = base::load_calls<Curl>(
        "libcurl.so.4", "libcurl4",
        [](base::LazyLibrary& lib, Curl& t) { return CURL_CALLS(BASE_LAZY_BIND) true; });
    if (t.error.empty()) t.curl_global_init(CURL_GLOBAL_DEFAULT);
    return t;
  }();
  return table;
}

constexpr size_t kMaxCollectedBody = 8u << 20;

struct Transfer {
  HttpResponse* response;
  const BodySink* sink;
  const std::function<void(uint64_t)>* on_length;
  bool length_told = false;
  base::Status sink_status;
  const HttpRequest* request = nullptr;  // its body is read by on_upload
  uint64_t sent = 0;
};

bool is_success(long status) {
  return status >= 200 && status < 300;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (the first, or one after a redirect or 100-continue):
    // its status decides where the body goes.
    t->response->headers.clear();
    t->length_told = false;
    auto space = line.find(' ');
    t->response->status =
        space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
    return line.size();
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return line.size();
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t\r\n");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  t->response->headers[name] = value;
  return line.size();
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  if (t->sink && is_success(t->response->status)) {
    if (!t->length_told && t->on_length && *t->on_length) {
      t->length_told = true;
      std::string cl = t->response->header("content-length");
      if (!cl.empty()) (*t->on_length)(std::strtoull(cl.c_str(), nullptr, 10));
    }
    t->sink_status = (*t->sink)(data, len);
    return t->sink_status ? len : 0;
  }
  if (t->response->body.size() + len > kMaxCollectedBody) return 0;
  t->response->body.append(data, len);
  return len;
}

// Hands curl the next part of the request's body.
size_t on_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  size_t room = size * count;
  if (r.body_fd < 0) {
    size_t n = std::min(room, r.body.size() - static_cast<size_t>(t->sent));
    std::copy_n(r.body.data() + t->sent, n, buffer);
    t->sent += n;
    return n;
  }
  uint64_t left = r.body_size - t->sent;
  if (left == 0) return 0;
  auto n = base::sys::pread(r.body_fd, buffer, std::min<uint64_t>(room, left),
                            static_cast<off_t>(t->sent), "request body");
  if (!n || *n == 0) {
    t->sink_status = n ? base::fail_msg("request body: the file is shorter than it was")
                       : base::fail(std::move(n).error());
    return CURL_READFUNC_ABORT;
  }
  t->sent += *n;
  return *n;
}

// Rewinds the request's body (curl resends it after a dropped connection or
// a redirect): reads are by offset, so any offset is a seek.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  uint64_t size = r.body_fd >= 0 ? r.body_size : r.body.size();
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > size)
    return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

std::string url_escape(const std::string& text) {
  // libcurl ignores the handle here (since 7.82).
  if (!curl().error.empty()) return text;
  char* escaped = curl().curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl().curl_free(escaped);
  return out;
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) berth::curl().curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpOptions options)
    : handle_(std::make_unique<Handle>()), options_(std::move(options)) {
  if (curl().error.empty()) handle_->curl = curl().curl_easy_init();
}

HttpClient::~HttpClient() = default;

base::Result<HttpResponse> HttpClient::get(const std::string& url,
                                           const std::vector<std::string>& headers,
                                           const BodySink* sink,
                                           const std::function<void(uint64_t)>& on_length) {
  HttpRequest request;
  request.url = url;
  request.headers = headers;
  return perform(request, sink, on_length);
}

base::Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  return perform(request, nullptr, {});
}

base::Result<HttpResponse> HttpClient::perform(const HttpRequest& request, const BodySink* sink,
                                               const std::function<void(uint64_t)>& on_length) {
  const std::string& url = request.url;
  const std::vector<std::string>& headers = request.headers;
  CURL* c = handle_->curl;
  const Curl& api = curl();
  if (!api.error.empty()) return base::fail_msg(api.error);
  if (!c) return base::fail_msg("cannot start an HTTP client (curl_easy_init)");
  api.curl_easy_reset(c);
  HttpResponse response;
  Transfer t{&response, sink, &on_length};
  t.request = &request;
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = api.curl_slist_append(list, h.c_str());
  bool reads = request.method == "GET" || request.method == "HEAD";
  if (!reads) list = api.curl_slist_append(list, "Expect:");
  char error[CURL_ERROR_SIZE] = {0};
  api.curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  api.curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (reads) {
    api.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    api.curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  }
  if (request.method == "HEAD") {
    api.curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (!reads) {
    // An upload of a known size; "Expect:" off, as registries answer at once.
    api.curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    api.curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    api.curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
    api.curl_easy_setopt(c, CURLOPT_READDATA, &t);
    api.curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    api.curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    auto size =
        static_cast<curl_off_t>(request.body_fd >= 0 ? request.body_size : request.body.size());
    api.curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
  }
  api.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  api.curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  api.curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  api.curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  api.curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  api.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  api.curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/0.1");
  if (!options_.verify_tls) {
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.ca_file.empty()) api.curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  CURLcode rc = api.curl_easy_perform(c);
  api.curl_slist_free_all(list);
  if (!t.sink_status) return base::fail(std::move(t.sink_status).error());
  if (rc != CURLE_OK)
    return base::fail_msg(fmt::format("{} {}: {}", request.method, url,
                                      error[0] ? error : api.curl_easy_strerror(rc)));
  long status = 0;
  api.curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  char* effective = nullptr;
  api.curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  response.url = effective ? effective : url;
  return response;
}

}  // namespace berth
