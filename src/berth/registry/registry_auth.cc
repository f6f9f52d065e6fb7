#include "berth/registry/registry_auth.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "base/text_file.h"

namespace berth {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

base::Result<nlohmann::json> read_auth_file(const std::string& path) {
  auto text = base::read_text(path);
  if (!text) {
    if (text.error().code() == ENOENT) return nlohmann::json::object();
    return base::fail(std::move(text).error());
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return base::fail_msg(fmt::format("{}: not a JSON object", path));
  return j;
}

}  // namespace

std::optional<Challenge> parse_challenge(const std::string& header) {
  size_t i = header.find_first_not_of(' ');
  if (i == std::string::npos) return std::nullopt;
  size_t space = header.find(' ', i);
  Challenge c;
  c.scheme = lower(header.substr(i, space == std::string::npos ? std::string::npos : space - i));
  if (c.scheme != "bearer" && c.scheme != "basic") return std::nullopt;
  i = space == std::string::npos ? header.size() : space;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = lower(header.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      ++i;  // closing quote
    } else {
      size_t end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? header.size() : end;
    }
    c.params[key] = value;
  }
  return c;
}

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

base::Result<std::string> base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) return base::fail_msg("base64 text has a length not a multiple of 4");
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return base::fail_msg("text is not base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string basic_authorization(const Credentials& c) {
  return "Basic " + base64_encode(c.username + ":" + c.password);
}

CredentialStore::CredentialStore(std::string root) : path_(std::move(root) + "/auth.json") {}

base::Result<std::optional<Credentials>> CredentialStore::find(const std::string& registry) const {
  nlohmann::json j = TRY(read_auth_file(path_));
  const auto& auths = j.value("auths", nlohmann::json::object());
  auto it = auths.find(registry);
  if (it == auths.end() || !it->is_object() || !it->contains("auth") || !(*it)["auth"].is_string())
    return std::optional<Credentials>();
  std::string pair = TRY_CTX(base64_decode((*it)["auth"].get<std::string>()),
                             fmt::format("{}: auths.\"{}\".auth", path_, registry));
  auto colon = pair.find(':');
  if (colon == std::string::npos)
    return base::fail_msg(
        fmt::format("{}: auths.\"{}\".auth is not user:password", path_, registry));
  return std::optional<Credentials>(Credentials{pair.substr(0, colon), pair.substr(colon + 1)});
}

base::Status CredentialStore::save(const std::string& registry, const Credentials& c) {
  nlohmann::json j = TRY(read_auth_file(path_));
  j["auths"][registry] = {{"auth", base64_encode(c.username + ":" + c.password)}};
  // A first login may come before any other command made the root.
  TRY_STATUS(base::make_dirs(path_.substr(0, path_.rfind('/'))));
  return base::replace_file(path_, j.dump(2) + "\n");
}

base::Result<bool> CredentialStore::remove(const std::string& registry) {
  nlohmann::json j = TRY(read_auth_file(path_));
  if (!j.contains("auths") || !j["auths"].is_object() || !j["auths"].contains(registry))
    return false;
  j["auths"].erase(registry);
  TRY_STATUS(base::replace_file(path_, j.dump(2) + "\n"));
  return true;
}

}  // namespace berth
