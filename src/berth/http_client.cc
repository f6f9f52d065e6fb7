#include "berth/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

namespace berth {
namespace {

constexpr size_t kMaxCollectedBody = 8u << 20;

struct Transfer {
  HttpResponse* response;
  const BodySink* sink;
  const std::function<void(uint64_t)>* on_length;
  bool length_told = false;
  base::Status sink_status;
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

}  // namespace

std::string url_escape(const std::string& text) {
  // libcurl ignores the handle here (since 7.82).
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpOptions options)
    : handle_(std::make_unique<Handle>()), options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_->curl = curl_easy_init();
}

HttpClient::~HttpClient() = default;

base::Result<HttpResponse> HttpClient::get(const std::string& url,
                                           const std::vector<std::string>& headers,
                                           const BodySink* sink,
                                           const std::function<void(uint64_t)>& on_length) {
  CURL* c = handle_->curl;
  if (!c) return base::fail_msg("cannot start an HTTP client (curl_easy_init)");
  curl_easy_reset(c);
  HttpResponse response;
  Transfer t{&response, sink, &on_length};
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/0.1");
  if (!options_.verify_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (!t.sink_status) return base::fail(std::move(t.sink_status).error());
  if (rc != CURLE_OK)
    return base::fail_msg(
        fmt::format("GET {}: {}", url, error[0] ? error : curl_easy_strerror(rc)));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  return response;
}

}  // namespace berth
