#include "berth/network/networks.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "base/dirs.h"
#include "base/file_lock.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "base/unique_fd.h"

namespace berth {
namespace fs = std::filesystem;
namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Every IPv4 network the host's interfaces are on.
std::vector<Subnet> host_subnets() {
  std::vector<Subnet> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET) continue;
    uint32_t addr = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    uint32_t mask = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    Subnet s;
    s.prefix = __builtin_popcount(mask);
    s.base = addr & mask;
    out.push_back(s);
  }
  ::freeifaddrs(list);
  return out;
}

Network network_from_json(const nlohmann::json& j) {
  Network n;
  n.name = j.value("Name", "");
  n.bridge = j.value("Bridge", "");
  n.subnet = j.value("Subnet", "");
  n.gateway = j.value("Gateway", "");
  n.created = j.value("Created", "");
  n.mtu = j.value("MTU", 1500u);
  return n;
}

}  // namespace

nlohmann::json to_json(const Network& n) {
  return {{"Name", n.name},       {"Bridge", n.bridge}, {"Subnet", n.subnet},
          {"Gateway", n.gateway}, {"MTU", n.mtu},       {"Created", n.created}};
}

nlohmann::json to_json(const Attachment& a) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : a.ports) ports.push_back(to_json(p));
  return {{"Network", a.network},    {"ContainerId", a.container_id}, {"Name", a.container_name},
          {"Address", a.address},    {"HostVeth", a.host_veth},       {"Ports", ports},
          {"Interface", a.interface}};
}

base::Result<Attachment> attachment_from_json(const nlohmann::json& j) {
  try {
    Attachment a;
    a.network = j.at("Network").get<std::string>();
    a.container_id = j.at("ContainerId").get<std::string>();
    a.container_name = j.at("Name").get<std::string>();
    a.address = j.at("Address").get<std::string>();
    a.host_veth = j.at("HostVeth").get<std::string>();
    a.interface = j.value("Interface", "eth0");
    for (const auto& p : j.at("Ports")) a.ports.push_back(TRY(port_from_json(p)));
    return a;
  } catch (const nlohmann::json::exception& e) {
    return base::fail_msg(fmt::format("network attachment record: {}", e.what()));
  }
}

base::Result<Subnet> Subnet::parse(const std::string& cidr) {
  auto slash = cidr.find('/');
  in_addr a{};
  int prefix = -1;
  if (slash != std::string::npos) {
    auto [end, ec] = std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), prefix);
    if (ec != std::errc() || end != cidr.data() + cidr.size()) prefix = -1;
  }
  if (slash == std::string::npos || ::inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1 ||
      prefix < 8 || prefix > 30)
    return base::fail_msg(
        fmt::format("subnet '{}': expected IPv4 CIDR such as 10.1.0.0/24 (prefix 8 to 30)", cidr));
  Subnet s;
  s.prefix = prefix;
  uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
  s.base = ntohl(a.s_addr) & mask;
  return s;
}

std::string Subnet::address(uint32_t offset) const {
  in_addr a{htonl(base + offset)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

bool Subnet::overlaps(const Subnet& o) const {
  int p = std::min(prefix, o.prefix);
  uint32_t mask = p == 0 ? 0 : ~0u << (32 - p);
  return (base & mask) == (o.base & mask);
}

std::string Subnet::text() const {
  return address(0) + "/" + std::to_string(prefix);
}

namespace {

std::string canonical_root(const std::string& root) {
  std::error_code ec;
  std::string c = fs::weakly_canonical(root, ec).string();
  if (ec) c = root;
  while (c.size() > 1 && c.back() == '/') c.pop_back();
  return c;
}

}  // namespace

HostNames host_names_of(const std::string& root) {
  std::string canonical = canonical_root(root);
  if (canonical == "/var/lib/berth") return {kDefaultNetwork, "berth"};
  base::Sha256 h;
  h.update(canonical.data(), canonical.size());
  std::string tag = h.digest().substr(7, 8);  // after "sha256:"
  return {std::string(kDefaultNetwork) + "-" + tag, "berth_" + tag};
}

namespace {

// Subnets other berth roots hold in this network namespace. Each root's
// choice is claimed in /run/berth/subnets/<netns inode>/ (a file per subnet
// naming the root and network) under one lock, so two roots choosing at
// once cannot both take 172.30.0.0/16 before either has a bridge. A claim
// whose network record is gone (a deleted root) is stale and removed.
std::string claims_dir() {
  auto st = base::sys::fstatat(AT_FDCWD, "/proc/self/ns/net", 0);
  return st ? fmt::format("/run/berth/subnets/{}", st->st_ino) : std::string();
}

std::string claim_name(const Subnet& s) {
  std::string text = s.text();
  std::replace(text.begin(), text.end(), '/', '_');
  return text;
}

// Whether a claim's root still has the network it names.
bool claim_is_live(const std::string& text) {
  size_t nl = text.find('\n');
  if (nl == std::string::npos || nl == 0) return false;
  return base::path_exists(text.substr(0, nl) + "/networks/" + text.substr(nl + 1) + ".json");
}

// Claims of deleted roots, in every namespace's directory (a namespace that
// is gone leaves its directory behind), go; so do directories left empty.
void sweep_stale_claims(const std::string& ours) {
  std::error_code ec;
  for (const auto& ns : fs::directory_iterator("/run/berth/subnets", ec)) {
    for (const auto& e : fs::directory_iterator(ns.path(), ec))
      if (e.path().filename() != ".lock" &&
          !claim_is_live(base::read_text_capped(e.path(), 8192).value_or("")))
        fs::remove(e.path(), ec);
    bool only_lock = true;
    for (const auto& e : fs::directory_iterator(ns.path(), ec))
      only_lock = only_lock && e.path().filename() == ".lock";
    if (only_lock && ns.path().string() != ours) fs::remove_all(ns.path(), ec);
  }
}

// The subnets claimed by roots other than `root`, dropping stale claims.
std::vector<Subnet> claimed_elsewhere(const std::string& dir, const std::string& root) {
  std::vector<Subnet> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename() == ".lock") continue;
    std::string text = base::read_text_capped(e.path(), 8192).value_or("");
    if (text.substr(0, text.find('\n')) == root) continue;
    if (!claim_is_live(text)) {
      fs::remove(e.path(), ec);
      continue;
    }
    std::string cidr = e.path().filename().string();
    std::replace(cidr.begin(), cidr.end(), '_', '/');
    if (auto sub = Subnet::parse(cidr)) out.push_back(*sub);
  }
  return out;
}

}  // namespace

Networks::Networks(const std::string& root)
    : dir_(root + "/networks"), root_(canonical_root(root)), names_(host_names_of(root)) {}

base::Result<Network> Networks::get(const std::string& name) {
  auto text = base::read_text(dir_ + "/" + name + ".json");
  if (!text) {
    if (name == kDefaultNetwork) return create(name);
    return base::fail_msg(fmt::format("network '{}' does not exist", name));
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return base::fail_msg(fmt::format("network '{}': its record is damaged", name));
  return network_from_json(j);
}

base::Result<Network> Networks::create(const std::string& name, const std::string& subnet,
                                       unsigned mtu) {
  if (mtu != 0 && (mtu < 576 || mtu > 65535))
    return base::fail_msg(fmt::format("--mtu {}: expected 576 to 65535", mtu));
  if (!valid_name(name))
    return base::fail_msg(
        fmt::format("network name '{}': use letters, digits, '-', '_' and '.' (at most 64)", name));
  if (name == "none" || name == "host" || name.rfind("container", 0) == 0)
    return base::fail_msg(fmt::format("network name '{}' is reserved", name));
  TRY_STATUS(base::make_dirs(dir_));
  auto lock = TRY(base::FileLock::acquire(dir_ + "/.lock"));
  if (base::path_exists(dir_ + "/" + name + ".json")) {
    if (name == kDefaultNetwork && subnet.empty()) return get(name);  // another process won
    return base::fail_msg(fmt::format("network '{}' already exists", name));
  }
  std::vector<Subnet> taken = host_subnets();
  for (const auto& other : list())
    if (auto s = Subnet::parse(other.subnet)) taken.push_back(*s);
  // Other roots in this network namespace: their claims count as taken.
  std::string claims = claims_dir();
  std::optional<base::FileLock> claims_lock;
  if (!claims.empty() && base::make_dirs(claims)) {
    auto l = base::FileLock::acquire(claims + "/.lock");
    if (l) claims_lock = std::move(*l);
    sweep_stale_claims(claims);
    for (const auto& s : claimed_elsewhere(claims, root_)) taken.push_back(s);
  }
  auto is_free = [&](const Subnet& s) {
    return std::none_of(taken.begin(), taken.end(), [&](const Subnet& t) { return t.overlaps(s); });
  };
  Subnet chosen;
  if (!subnet.empty()) {
    chosen = TRY(Subnet::parse(subnet));
    if (!is_free(chosen))
      return base::fail_msg(fmt::format(
          "subnet {} overlaps a network of this host or another berth network", chosen.text()));
  } else {
    bool found = false;
    // berth0: 172.30.0.0/16, else 10.89.0.0/16 onwards; others: /24s of 172.31.0.0/16.
    for (uint32_t i = 0; i < 160 && !found; ++i) {
      std::string candidate = name != kDefaultNetwork ? fmt::format("172.31.{}.0/24", i)
                              : i == 0                ? std::string("172.30.0.0/16")
                                                      : fmt::format("10.{}.0.0/16", 88 + i);
      chosen = *Subnet::parse(candidate);
      found = is_free(chosen);
    }
    if (!found) return base::fail_msg("no free subnet left; give one with --subnet");
  }
  Network n;
  n.name = name;
  n.bridge =
      name == kDefaultNetwork ? names_.default_bridge : "br-" + TRY(base::sys::random_hex(6));
  n.subnet = chosen.text();
  n.gateway = chosen.address(1);
  n.created = base::now_rfc3339();
  if (mtu != 0) n.mtu = mtu;
  TRY_STATUS(base::make_dirs(dir_ + "/" + name + ".ips"));
  TRY_STATUS(base::replace_file(dir_ + "/" + name + ".json", to_json(n).dump(2)));
  if (claims_lock) (void)base::replace_file(claims + "/" + claim_name(chosen), root_ + "\n" + name);
  return n;
}

std::vector<Network> Networks::list() const {
  std::vector<Network> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string file = e.path().filename();
    if (file.size() < 6 || file.substr(file.size() - 5) != ".json") continue;
    auto text = base::read_text(e.path());
    auto j = nlohmann::json::parse(text.value_or(""), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    out.push_back(network_from_json(j));
  }
  std::sort(out.begin(), out.end(),
            [](const Network& a, const Network& b) { return a.name < b.name; });
  return out;
}

base::Status Networks::remove(const std::string& name) {
  auto lock = TRY(base::FileLock::acquire(dir_ + "/.lock"));
  if (!base::path_exists(dir_ + "/" + name + ".json"))
    return base::fail_msg(fmt::format("network '{}' does not exist", name));
  auto in_use = attachments(name);
  if (!in_use.empty())
    return base::fail_msg(
        fmt::format("network '{}' is in use by container {}", name, in_use.front().container_name));
  std::error_code ec;
  std::string claims = claims_dir();
  if (auto n = get(name); n && !claims.empty())
    if (auto sub = Subnet::parse(n->subnet)) {
      std::string claim = claims + "/" + claim_name(*sub);
      if (base::read_text_capped(claim, 8192).value_or("") == root_ + "\n" + name)
        fs::remove(claim, ec);
    }
  fs::remove(dir_ + "/" + name + ".json", ec);
  fs::remove_all(dir_ + "/" + name + ".ips", ec);
  return {};
}

base::Status Networks::allocate(Network& n, Attachment& a) {
  Subnet s = TRY(Subnet::parse(n.subnet));
  std::string ips = dir_ + "/" + n.name + ".ips";
  TRY_STATUS(base::make_dirs(ips));
  a.network = n.name;
  // Checked and reserved under one lock: two starts never both take a port.
  auto ports_lock = TRY(base::FileLock::acquire(dir_ + "/.ports.lock"));
  TRY_STATUS(check_ports_free(a));
  // The record is written whole to a temporary, then link()ed under the
  // address's name: that fails if the address is taken, and a reserved
  // address never has a partial record, whenever berth is killed.
  std::string tmp = fmt::format("{}/.tmp-{}", ips, ::getpid());
  // .0 is the network, .1 the gateway, the last the broadcast address.
  for (uint32_t offset = 2; offset + 1 < s.size(); ++offset) {
    std::string address = s.address(offset);
    std::string path = fmt::format("{}/{}", ips, address);
    if (::access(path.c_str(), F_OK) == 0) continue;
    a.address = address;
    std::string text = to_json(a).dump();
    {
      base::UniqueFd fd = TRY(base::sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      TRY_STATUS(base::sys::write_all(fd.get(), text.data(), text.size(), tmp));
    }
    auto linked = base::sys::linkat(AT_FDCWD, tmp, AT_FDCWD, path, 0);
    ::unlink(tmp.c_str());
    if (linked) return {};
    if (linked.error().code() != EEXIST)
      return base::fail(base::Error::sys(linked.error().code(), "reserve address", path));
  }
  a.address.clear();
  return base::fail_msg(fmt::format("network '{}' has no free address left", n.name));
}

base::Status Networks::check_ports_free(const Attachment& a) const {
  auto same_address = [](const std::string& x, const std::string& y) {
    auto any = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0"; };
    return any(x) || any(y) || x == y;
  };
  for (size_t i = 0; i < a.ports.size(); ++i)  // one container asking twice
    for (size_t j = i + 1; j < a.ports.size(); ++j)
      if (a.ports[i].host_port == a.ports[j].host_port &&
          a.ports[i].protocol == a.ports[j].protocol &&
          same_address(a.ports[i].host_ip, a.ports[j].host_ip))
        return base::fail_msg(fmt::format("-p {}: host port {}/{} is published twice",
                                          a.ports[j].text(), a.ports[j].host_port,
                                          a.ports[j].protocol));
  for (const auto& other_network : list())
    for (const auto& other : attachments(other_network.name)) {
      if (other.container_id == a.container_id) continue;
      for (const auto& mine : a.ports)
        for (const auto& theirs : other.ports)
          if (mine.host_port == theirs.host_port && mine.protocol == theirs.protocol &&
              same_address(mine.host_ip, theirs.host_ip))
            return base::fail_msg(
                fmt::format("-p {}: host port {}/{} is already published by container {} ({})",
                            mine.text(), mine.host_port, mine.protocol, other.container_name,
                            other.container_id.substr(0, 12)));
    }
  return {};
}

base::Status Networks::release(const std::string& network, const std::string& address) {
  std::string path = dir_ + "/" + network + ".ips/" + address;
  if (auto s = base::sys::unlinkat(AT_FDCWD, path, 0); !s && s.error().code() != ENOENT)
    return base::fail(base::Error::sys(s.error().code(), "release address", path));
  return {};
}

std::vector<Attachment> Networks::attachments(const std::string& network) const {
  std::vector<Attachment> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/" + network + ".ips", ec)) {
    if (e.path().filename().string().front() == '.') continue;  // a record being written
    auto j = nlohmann::json::parse(base::read_text(e.path()).value_or(""), nullptr, false);
    if (j.is_discarded()) continue;
    if (auto a = attachment_from_json(j)) out.push_back(std::move(*a));
  }
  return out;
}

namespace {

// Whether process `pid`, named in a temporary's name, is gone.
bool writer_gone(int pid) {
  if (pid <= 0) return false;
  auto alive = base::sys::kill(pid, 0);
  return !alive && alive.error().code() == ESRCH;
}

}  // namespace

void Networks::remove_stale_temporaries(const std::string& network) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/" + network + ".ips", ec)) {
    std::string file = e.path().filename();
    if (file.rfind(".tmp-", 0) != 0) continue;
    if (writer_gone(std::atoi(file.c_str() + 5))) fs::remove(e.path(), ec);
  }
}

void Networks::remove_stale_definition_temporaries() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string file = e.path().filename();
    size_t at = file.find(".json.tmp.");
    if (at == std::string::npos) continue;
    if (writer_gone(std::atoi(file.c_str() + at + 10))) fs::remove(e.path(), ec);
  }
}

std::vector<Attachment> Networks::attachments_of(const std::string& container_id) const {
  std::vector<Attachment> out;
  for (const auto& n : list())
    for (auto& a : attachments(n.name))
      if (a.container_id == container_id) out.push_back(std::move(a));
  return out;
}

}  // namespace berth
