#include "berth/container/mount_options.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/units.h"

namespace berth {
namespace {

using Kind = MountRequest::Kind;

// "/data/" and "/data//x" as docker cleans them ("/data", "/data/x"); other
// odd paths ("..", ".") stay, to be refused by plain_absolute.
std::string cleaned_target(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  for (size_t at; (at = path.find("//")) != std::string::npos;) path.erase(at, 1);
  return path;
}

base::Status check_target(const std::string& target, std::string_view flag,
                          const std::string& value) {
  if (target == "/")
    return base::fail_msg(fmt::format("{} '{}': the target cannot be '/'", flag, value));
  if (!plain_absolute(target))
    return base::fail_msg(fmt::format(
        "{} '{}': the target must be an absolute path, without '..' or '.'", flag, value));
  return {};
}

bool is_propagation(const std::string& mode) {
  for (const char* p : {"private", "rprivate", "shared", "rshared", "slave", "rslave"})
    if (mode == p) return true;
  return false;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    size_t at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// -v's MODES into `m`.
base::Status read_modes(const std::string& modes, const std::string& value, MountRequest& m) {
  bool access = false, propagation = false;
  for (const auto& mode : split(modes, ',')) {
    if (mode == "ro" || mode == "rw") {
      if (access) return base::fail_msg(fmt::format("-v '{}': ro and rw both given", value));
      access = true;
      m.readonly = mode == "ro";
    } else if (mode == "nocopy" && m.kind == Kind::kVolume) {
      m.nocopy = true;
    } else if (is_propagation(mode) && m.kind == Kind::kBind && !propagation) {
      propagation = true;
      m.propagation = mode;
    } else if (mode != "z" && mode != "Z" && mode != "consistent" && mode != "cached" &&
               mode != "delegated") {
      return base::fail_msg(fmt::format("-v '{}': invalid mode: {}", value, mode));
    }
  }
  return {};
}

// docker's --mount value: CSV fields (quotes allowed), each KEY=VALUE or a bare KEY.
base::Result<std::vector<std::string>> csv_fields(const std::string& value) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '"' && i + 1 < value.size() && value[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  if (quoted) return base::fail_msg(fmt::format("--mount '{}': an unclosed quote", value));
  out.push_back(std::move(field));
  return out;
}

base::Result<bool> flag_value(const std::string& key, const std::string& text, bool has_value,
                              const std::string& value) {
  if (!has_value || text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return base::fail_msg(
      fmt::format("--mount '{}': invalid value for {}: {} (true or false)", value, key, text));
}

}  // namespace

bool plain_absolute(const std::string& path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  for (const auto& name : split(path.substr(1), '/'))
    if (name.empty() || name == "." || name == "..") return false;
  return true;
}

bool valid_volume_name(const std::string& name) {
  if (name.size() < 2 || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

base::Result<MountRequest> parse_volume_flag(const std::string& value) {
  auto parts = split(value, ':');
  if (parts.size() > 3 || value.empty())
    return base::fail_msg(fmt::format("-v '{}': must be [SOURCE:]TARGET[:MODES]", value));
  MountRequest m;
  m.from_volume_flag = true;
  if (parts.size() == 1) {  // an anonymous volume
    m.target = cleaned_target(parts[0]);
  } else {
    m.source = parts[0];
    m.target = cleaned_target(parts[1]);
    if (m.source.empty()) return base::fail_msg(fmt::format("-v '{}': the source is empty", value));
    if (m.source.front() == '/') {
      m.kind = Kind::kBind;
    } else if (!valid_volume_name(m.source)) {
      return base::fail_msg(fmt::format(
          "-v '{}': '{}' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+); a host directory "
          "must be an absolute path",
          value, m.source));
    }
  }
  TRY_STATUS(check_target(m.target, "-v", value));
  if (parts.size() == 3) TRY_STATUS(read_modes(parts[2], value, m));
  return m;
}

base::Result<MountRequest> parse_mount_flag(const std::string& value) {
  MountRequest m;
  bool nocopy = false, readonly = false;
  std::string tmpfs_size, tmpfs_mode, propagation;
  std::map<std::string, std::string> labels;
  std::vector<std::string> keys;
  for (const auto& field : TRY(csv_fields(value))) {
    auto eq = field.find('=');
    std::string key = field.substr(0, eq), v = eq == std::string::npos ? "" : field.substr(eq + 1);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool has_value = eq != std::string::npos;
    keys.push_back(key);
    if (key == "readonly" || key == "ro") {
      readonly = TRY(flag_value(key, v, has_value, value));
    } else if (key == "volume-nocopy") {
      nocopy = TRY(flag_value(key, v, has_value, value));
    } else if (!has_value) {
      return base::fail_msg(
          fmt::format("--mount '{}': invalid field '{}': must be a key=value pair", value, field));
    } else if (key == "type") {
      if (v == "bind")
        m.kind = Kind::kBind;
      else if (v == "volume")
        m.kind = Kind::kVolume;
      else if (v == "tmpfs")
        m.kind = Kind::kTmpfs;
      else
        return base::fail_msg(fmt::format(
            "--mount '{}': type '{}' is not bind, volume or tmpfs (npipe is Windows')", value, v));
    } else if (key == "source" || key == "src") {
      m.source = v;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = cleaned_target(v);
    } else if (key == "bind-propagation") {
      if (!is_propagation(v))
        return base::fail_msg(fmt::format("--mount '{}': invalid bind-propagation: {}", value, v));
      propagation = v;
    } else if (key == "volume-label") {
      auto leq = v.find('=');
      labels[v.substr(0, leq)] = leq == std::string::npos ? "" : v.substr(leq + 1);
    } else if (key == "volume-driver") {
      if (v != "local")
        return base::fail_msg(
            fmt::format("--mount '{}': volume driver '{}': only local exists here", value, v));
    } else if (key == "tmpfs-size") {
      tmpfs_size = v;
    } else if (key == "tmpfs-mode") {
      tmpfs_mode = v;
    } else if (key == "consistency") {
      continue;  // macOS's; no effect on Linux, as in docker
    } else if (key == "volume-opt" || key == "bind-nonrecursive") {
      return base::fail_msg(fmt::format("--mount '{}': {} is not supported", value, key));
    } else {
      return base::fail_msg(fmt::format("--mount '{}': unexpected key '{}'", value, key));
    }
  }
  if (m.target.empty())
    return base::fail_msg(fmt::format("--mount '{}': target is required", value));
  TRY_STATUS(check_target(m.target, "--mount", value));
  m.readonly = readonly;
  auto only_for = [&](std::string_view prefix, Kind kind, std::string_view type) -> base::Status {
    for (const auto& k : keys)
      if (k.rfind(prefix, 0) == 0 && m.kind != kind)
        return base::fail_msg(
            fmt::format("--mount '{}': {} is for type={} mounts only", value, k, type));
    return {};
  };
  TRY_STATUS(only_for("bind-", Kind::kBind, "bind"));
  TRY_STATUS(only_for("volume-", Kind::kVolume, "volume"));
  TRY_STATUS(only_for("tmpfs-", Kind::kTmpfs, "tmpfs"));
  switch (m.kind) {
    case Kind::kBind:
      if (m.source.empty())
        return base::fail_msg(fmt::format("--mount '{}': source is required for a bind", value));
      if (m.source.front() != '/')
        return base::fail_msg(
            fmt::format("--mount '{}': a bind source must be an absolute path", value));
      if (!base::sys::fstatat(AT_FDCWD, m.source, 0))
        return base::fail_msg(
            fmt::format("--mount '{}': bind source path does not exist: {}", value, m.source));
      m.propagation = propagation;
      break;
    case Kind::kVolume:
      if (!m.source.empty() && !valid_volume_name(m.source))
        return base::fail_msg(
            fmt::format("--mount '{}': '{}' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
                        value, m.source));
      m.nocopy = nocopy;
      m.labels = std::move(labels);
      break;
    case Kind::kTmpfs: {
      if (!m.source.empty())
        return base::fail_msg(fmt::format("--mount '{}': a tmpfs has no source", value));
      std::vector<std::string> options;
      if (!tmpfs_size.empty()) {
        auto bytes = base::units::parse_size(tmpfs_size);
        if (!bytes)
          return base::fail_msg(
              fmt::format("--mount '{}': tmpfs-size '{}' is not a size", value, tmpfs_size));
        options.push_back(fmt::format("size={}", *bytes));
      }
      if (!tmpfs_mode.empty()) {
        if (tmpfs_mode.size() > 4 || tmpfs_mode.find_first_not_of("01234567") != std::string::npos)
          return base::fail_msg(
              fmt::format("--mount '{}': tmpfs-mode '{}' is not an octal mode", value, tmpfs_mode));
        options.push_back("mode=" + tmpfs_mode);
      }
      if (readonly) options.emplace_back("ro");
      for (const auto& o : options) m.tmpfs_options += (m.tmpfs_options.empty() ? "" : ",") + o;
      break;
    }
  }
  return m;
}

base::Result<std::vector<MountRequest>> mount_requests(const std::vector<std::string>& volumes,
                                                       const std::vector<std::string>& mounts) {
  std::vector<MountRequest> out;
  out.reserve(volumes.size() + mounts.size());
  for (const auto& v : volumes) out.push_back(TRY(parse_volume_flag(v)));
  for (const auto& v : mounts) out.push_back(TRY(parse_mount_flag(v)));
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (out[i].target == out[j].target)
        return base::fail_msg(fmt::format("duplicate mount point: {}", out[i].target));
  return out;
}

}  // namespace berth
