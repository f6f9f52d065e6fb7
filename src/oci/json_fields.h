// Fields: reads one JSON object's members, naming each by its JSON path in
// errors ("process.rlimits[0].soft: must be a non-negative integer"). Used by
// every parser of OCI documents (config.json, resources, seccomp, process).
// Thread-safety: a view over a json value; do not outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace oci {

// Reads fields of one JSON object, naming each by its path in errors.
class Fields {
 public:
  Fields(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}

  static base::Result<Fields> object(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) return base::fail_msg(fmt::format("{}: must be an object", path));
    return Fields(j, path);
  }
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  std::string at(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const nlohmann::json& raw(const char* key) const { return j_[key]; }

  base::Result<std::string> str(const char* key, bool required) const {
    if (!has(key)) {
      if (required) return base::fail_msg(fmt::format("{}: required", at(key)));
      return std::string();
    }
    if (!j_[key].is_string()) return base::fail_msg(fmt::format("{}: must be a string", at(key)));
    return j_[key].get<std::string>();
  }
  base::Result<bool> boolean(const char* key) const {
    if (!has(key)) return false;
    if (!j_[key].is_boolean())
      return base::fail_msg(fmt::format("{}: must be true or false", at(key)));
    return j_[key].get<bool>();
  }
  // An integer within [lo, hi].
  base::Result<std::optional<int64_t>> integer(const char* key, int64_t lo, int64_t hi) const {
    if (!has(key)) return std::optional<int64_t>();
    const nlohmann::json& v = j_[key];
    if (!v.is_number_integer())
      return base::fail_msg(fmt::format("{}: must be an integer", at(key)));
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(hi)
                               : (v.get<int64_t>() < lo || v.get<int64_t>() > hi))
      return base::fail_msg(fmt::format("{}: must be between {} and {}", at(key), lo, hi));
    return std::optional<int64_t>(v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>())
                                                         : v.get<int64_t>());
  }
  base::Result<uint32_t> u32(const char* key, bool required) const {
    auto v = TRY(integer(key, 0, UINT32_MAX));
    if (!v && required) return base::fail_msg(fmt::format("{}: required", at(key)));
    return static_cast<uint32_t>(v.value_or(0));
  }
  base::Result<uint64_t> u64(const char* key, bool required) const {
    if (!has(key)) {
      if (required) return base::fail_msg(fmt::format("{}: required", at(key)));
      return uint64_t{0};
    }
    if (!j_[key].is_number_unsigned() &&
        !(j_[key].is_number_integer() && j_[key].get<int64_t>() >= 0))
      return base::fail_msg(fmt::format("{}: must be a non-negative integer", at(key)));
    return j_[key].get<uint64_t>();
  }
  base::Result<std::vector<std::string>> strings(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    if (!j_[key].is_array())
      return base::fail_msg(fmt::format("{}: must be an array of strings", at(key)));
    for (size_t i = 0; i < j_[key].size(); ++i) {
      if (!j_[key][i].is_string())
        return base::fail_msg(fmt::format("{}[{}]: must be a string", at(key), i));
      out.push_back(j_[key][i].get<std::string>());
    }
    return out;
  }
  base::Result<std::map<std::string, std::string>> string_map(const char* key) const {
    std::map<std::string, std::string> out;
    if (!has(key)) return out;
    if (!j_[key].is_object()) return base::fail_msg(fmt::format("{}: must be an object", at(key)));
    for (const auto& [k, v] : j_[key].items()) {
      if (!v.is_string()) return base::fail_msg(fmt::format("{}.{}: must be a string", at(key), k));
      out[k] = v.get<std::string>();
    }
    return out;
  }
  // Each element of an array of objects, parsed by `each`.
  template <typename T>
  base::Result<std::vector<T>> list(
      const char* key, const std::function<base::Result<T>(const Fields&)>& each) const {
    std::vector<T> out;
    if (!has(key)) return out;
    if (!j_[key].is_array()) return base::fail_msg(fmt::format("{}: must be an array", at(key)));
    for (size_t i = 0; i < j_[key].size(); ++i)
      out.push_back(TRY(each(TRY(object(j_[key][i], fmt::format("{}[{}]", at(key), i))))));
    return out;
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
};

}  // namespace oci
