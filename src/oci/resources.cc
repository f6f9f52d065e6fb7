#include "oci/resources.h"

#include <fmt/format.h>

#include "oci/json_fields.h"

namespace oci {
namespace {

base::Result<std::optional<int64_t>> signed_value(const Fields& f, const char* key) {
  return f.integer(key, INT64_MIN, INT64_MAX);
}

template <typename T>
std::optional<T> unset_if_zero(std::optional<T> v) {
  if (v && *v == 0) return std::nullopt;
  return v;
}
std::optional<uint64_t> unset_if_zero(uint64_t v) {
  if (v == 0) return std::nullopt;
  return v;
}

// memory.swappiness: 0-100; docker sends -1 (as a uint64, 2^64-1) for "unset".
base::Result<std::optional<uint64_t>> swappiness(const Fields& m) {
  if (!m.has("swappiness")) return std::optional<uint64_t>();
  const nlohmann::json& v = m.raw("swappiness");
  if (v.is_number_integer() &&
      (v.get<int64_t>() == -1 || (v.is_number_unsigned() && v.get<uint64_t>() == UINT64_MAX)))
    return std::optional<uint64_t>();
  auto s = TRY(m.integer("swappiness", 0, 100));
  return std::optional<uint64_t>(static_cast<uint64_t>(*s));
}

base::Result<std::vector<BlockRate>> rates(const Fields& f, const char* key) {
  return f.list<BlockRate>(key, [](const Fields& r) -> base::Result<BlockRate> {
    BlockRate b;
    b.major = TRY(r.integer("major", 0, UINT32_MAX)).value_or(-1);
    b.minor = TRY(r.integer("minor", 0, UINT32_MAX)).value_or(-1);
    if (b.major < 0 || b.minor < 0)
      return base::fail_msg(fmt::format("{}: needs major and minor", r.at("major")));
    b.rate = TRY(r.u64("rate", true));
    return b;
  });
}

base::Result<DeviceRule> device_rule(const Fields& d) {
  DeviceRule r;
  if (!d.has("allow")) return base::fail_msg(fmt::format("{}: required", d.at("allow")));
  r.allow = TRY(d.boolean("allow"));
  std::string type = TRY(d.str("type", false));
  if (type.empty()) type = "a";
  if (type != "a" && type != "b" && type != "c")
    return base::fail_msg(fmt::format("{}: must be a, b or c", d.at("type")));
  r.type = type[0];
  r.major = TRY(d.integer("major", -1, UINT32_MAX)).value_or(-1);
  r.minor = TRY(d.integer("minor", -1, UINT32_MAX)).value_or(-1);
  r.access = TRY(d.str("access", false));
  if (r.access.empty()) r.access = "rwm";
  for (char c : r.access)
    if (c != 'r' && c != 'w' && c != 'm')
      return base::fail_msg(
          fmt::format("{}: '{}' is not made of r, w and m", d.at("access"), r.access));
  return r;
}

}  // namespace

base::Result<Resources> parse_resources(const nlohmann::json& j, const std::string& path) {
  Resources r;
  if (j.is_null()) return r;
  Fields f = TRY(Fields::object(j, path));
  // Engines send 0 for what the user never gave (docker sends every field on
  // update); runc treats 0 as "leave it alone" for these fields, and so do we.
  if (f.has("memory")) {
    Fields m = TRY(Fields::object(f.raw("memory"), f.at("memory")));
    r.memory_limit = unset_if_zero(TRY(signed_value(m, "limit")));
    r.memory_reservation = unset_if_zero(TRY(signed_value(m, "reservation")));
    r.memory_swap = unset_if_zero(TRY(signed_value(m, "swap")));
    r.kernel_limit = unset_if_zero(TRY(signed_value(m, "kernel")));
    r.kernel_tcp_limit = unset_if_zero(TRY(signed_value(m, "kernelTCP")));
    r.memory_swappiness = TRY(swappiness(m));
    r.disable_oom_killer = TRY(m.boolean("disableOOMKiller"));
    if (r.memory_limit && *r.memory_limit < -1)
      return base::fail_msg(fmt::format("{}: must be -1 or a byte count", m.at("limit")));
    if (r.memory_swap && r.memory_limit && *r.memory_swap != -1 && *r.memory_limit != -1 &&
        *r.memory_swap < *r.memory_limit)
      return base::fail_msg(fmt::format(
          "{}: must not be below memory.limit (it counts memory plus swap)", m.at("swap")));
  }
  if (f.has("cpu")) {
    Fields c = TRY(Fields::object(f.raw("cpu"), f.at("cpu")));
    if (c.has("shares")) r.cpu_shares = unset_if_zero(TRY(c.u64("shares", true)));
    r.cpu_quota = unset_if_zero(TRY(signed_value(c, "quota")));
    if (c.has("period")) r.cpu_period = unset_if_zero(TRY(c.u64("period", true)));
    r.cpu_realtime_runtime = unset_if_zero(TRY(signed_value(c, "realtimeRuntime")));
    if (c.has("realtimePeriod"))
      r.cpu_realtime_period = unset_if_zero(TRY(c.u64("realtimePeriod", true)));
    r.cpus = TRY(c.str("cpus", false));
    r.mems = TRY(c.str("mems", false));
    if (r.cpu_shares && *r.cpu_shares < 2)
      return base::fail_msg(fmt::format("{}: must be at least 2", c.at("shares")));
    if (r.cpu_period && (*r.cpu_period < 1000 || *r.cpu_period > 1000000))
      return base::fail_msg(
          fmt::format("{}: must be between 1000 and 1000000 microseconds", c.at("period")));
    if (r.cpu_quota && *r.cpu_quota != -1 && *r.cpu_quota < 1000)
      return base::fail_msg(
          fmt::format("{}: must be -1 or at least 1000 microseconds", c.at("quota")));
  }
  if (f.has("pids")) {
    Fields p = TRY(Fields::object(f.raw("pids"), f.at("pids")));
    if (!p.has("limit")) return base::fail_msg(fmt::format("{}: required", p.at("limit")));
    r.pids_limit = unset_if_zero(TRY(signed_value(p, "limit")));
  }
  if (f.has("network")) {
    Fields n = TRY(Fields::object(f.raw("network"), f.at("network")));
    if (n.has("classID")) r.net_class_id = TRY(n.u32("classID", true));
    using Priority = std::pair<std::string, uint32_t>;
    r.net_priorities =
        TRY(n.list<Priority>("priorities", [](const Fields& pr) -> base::Result<Priority> {
          std::string name = TRY(pr.str("name", true));
          if (name.empty() || name.find_first_of("/ \n") != std::string::npos)
            return base::fail_msg(fmt::format("{}: not an interface name", pr.at("name")));
          return Priority{name, TRY(pr.u32("priority", true))};
        }));
  }
  if (f.has("blockIO")) {
    Fields b = TRY(Fields::object(f.raw("blockIO"), f.at("blockIO")));
    auto weight = TRY(b.integer("weight", 0, 1000));
    if (weight && *weight != 0) {
      if (*weight < 10)
        return base::fail_msg(fmt::format("{}: must be 10 to 1000", b.at("weight")));
      r.blkio_weight = static_cast<uint16_t>(*weight);
    }
    auto leaf = TRY(b.integer("leafWeight", 0, 1000));
    if (leaf && *leaf != 0)
      return base::fail_msg(fmt::format(
          "{}: this kernel has no blkio leaf weights (removed in Linux 5.0)", b.at("leafWeight")));
    r.read_bps = TRY(rates(b, "throttleReadBpsDevice"));
    r.write_bps = TRY(rates(b, "throttleWriteBpsDevice"));
    r.read_iops = TRY(rates(b, "throttleReadIOPSDevice"));
    r.write_iops = TRY(rates(b, "throttleWriteIOPSDevice"));
  }
  using PageLimit = std::pair<std::string, uint64_t>;
  auto pages =
      TRY(f.list<PageLimit>("hugepageLimits", [](const Fields& h) -> base::Result<PageLimit> {
        std::string size = TRY(h.str("pageSize", true));
        if (size.empty() || size.find('/') != std::string::npos)
          return base::fail_msg(fmt::format("{}: not a page size such as 2MB", h.at("pageSize")));
        uint64_t limit = TRY(h.u64("limit", true));
        return PageLimit{size, limit};
      }));
  for (auto& [size, limit] : pages) r.hugepage_limits[size] = limit;
  r.devices = TRY(f.list<DeviceRule>("devices", device_rule));
  r.unified = TRY(f.string_map("unified"));
  for (const auto& [k, v] : r.unified)
    if (k.empty() || k.find('/') != std::string::npos || k.find("..") != std::string::npos)
      return base::fail_msg(fmt::format("{}.{}: not a cgroup file name", f.at("unified"), k));
  return r;
}

std::vector<DeviceRule> default_device_rules() {
  return {
      {true, 'c', -1, -1, "m"},    {true, 'b', -1, -1, "m"},  // mknod of anything
      {true, 'c', 1, 3, "rwm"},                               // null
      {true, 'c', 1, 5, "rwm"},                               // zero
      {true, 'c', 1, 7, "rwm"},                               // full
      {true, 'c', 1, 8, "rwm"},                               // random
      {true, 'c', 1, 9, "rwm"},                               // urandom
      {true, 'c', 5, 0, "rwm"},                               // tty
      {true, 'c', 5, 2, "rwm"},                               // ptmx
      {true, 'c', 136, -1, "rwm"},                            // pts/*
      {true, 'c', 10, 200, "rwm"},                            // net/tun
  };
}

}  // namespace oci
