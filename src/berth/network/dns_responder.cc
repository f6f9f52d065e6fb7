#include "berth/network/dns_responder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "base/lazy_library.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/unique_fd.h"
#include "berth/network/networks.h"

// Last: ldns's common.h defines `bool` as a macro unless stdbool.h said it exists.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

namespace berth {
namespace {

// clang-format off
#define BERTH_LDNS_CALLS(X)                                                               \
  X(ldns_wire2pkt) X(ldns_pkt2wire) X(ldns_pkt_new) X(ldns_pkt_free) X(ldns_pkt_question) \
  X(ldns_rr_list_rr_count) X(ldns_rr_list_rr) X(ldns_rr_owner) X(ldns_rr_get_type)        \
  X(ldns_rdf2str) X(ldns_pkt_id) X(ldns_pkt_rd) X(ldns_pkt_set_id) X(ldns_pkt_set_qr)     \
  X(ldns_pkt_set_aa) X(ldns_pkt_set_rd) X(ldns_pkt_set_ra) X(ldns_pkt_set_rcode)         \
  X(ldns_pkt_push_rr) X(ldns_rr_clone) X(ldns_rr_new_frm_str)
// clang-format on
struct Ldns {
  BERTH_LDNS_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};
const Ldns& ldns() {
  static const Ldns t = base::load_calls<Ldns>(
      "libldns.so.3", "libldns3",
      [](base::LazyLibrary& lib, Ldns& t) { return BERTH_LDNS_CALLS(BASE_LAZY_BIND) true; });
  return t;
}

using PacketPtr = std::unique_ptr<ldns_pkt, void (*)(ldns_pkt*)>;

std::string lower_without_dot(std::string name) {
  while (!name.empty() && name.back() == '.') name.pop_back();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// The address of the container called `name` (or NAME.NETWORK), or "".
std::string lookup(const std::string& root, const std::string& network, const std::string& name) {
  for (const auto& a : Networks(root).attachments(network)) {
    std::string c = lower_without_dot(a.container_name);
    if (name == c || name == c + "." + lower_without_dot(network)) return a.address;
  }
  return "";
}

// The host's name servers, from /etc/resolv.conf.
std::vector<sockaddr_in> upstream_servers(const std::string& own_address) {
  std::vector<sockaddr_in> out;
  std::istringstream in(base::read_text("/etc/resolv.conf").value_or(""));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    if (key == "nameserver" && value != own_address &&
        ::inet_pton(AF_INET, value.c_str(), &a.sin_addr) == 1)
      out.push_back(a);
  }
  return out;
}

// Asks the host's name servers; their answer, or "" when none answered.
std::string forward(const std::vector<sockaddr_in>& servers, const uint8_t* query, size_t len) {
  for (const auto& server : servers) {
    auto s = base::sys::socket(AF_INET, SOCK_DGRAM);
    if (!s) continue;
    if (!base::sys::connect(s->get(), reinterpret_cast<const sockaddr*>(&server), sizeof server))
      continue;
    auto sent = base::sys::send(s->get(), query, len, 0);
    if (!sent || *sent != len) continue;
    auto ready = base::sys::poll_one(s->get(), POLLIN, 2000);
    if (!ready || *ready == 0) continue;
    char answer[4096];
    auto n = base::sys::recv(s->get(), answer, sizeof answer, 0);
    if (n && *n > 0) return std::string(answer, *n);
  }
  return "";
}

// The reply to one query, in wire format ("" to stay silent).
std::string answer(const std::string& root, const std::string& network, const std::string& own,
                   const uint8_t* data, size_t len) {
  ldns_pkt* raw = nullptr;
  if (ldns().ldns_wire2pkt(&raw, data, len) != LDNS_STATUS_OK) return "";
  PacketPtr query(raw, ldns().ldns_pkt_free);
  ldns_rr_list* questions = ldns().ldns_pkt_question(query.get());
  if (!questions || ldns().ldns_rr_list_rr_count(questions) != 1) return "";
  ldns_rr* question = ldns().ldns_rr_list_rr(questions, 0);
  char* owner_text = ldns().ldns_rdf2str(ldns().ldns_rr_owner(question));
  std::string name = lower_without_dot(owner_text ? owner_text : "");
  std::free(owner_text);
  std::string address = lookup(root, network, name);
  if (address.empty()) {
    std::string relayed = forward(upstream_servers(own), data, len);
    if (!relayed.empty()) return relayed;
  }
  PacketPtr reply(ldns().ldns_pkt_new(), ldns().ldns_pkt_free);
  ldns().ldns_pkt_set_id(reply.get(), ldns().ldns_pkt_id(query.get()));
  ldns().ldns_pkt_set_qr(reply.get(), true);
  ldns().ldns_pkt_set_rd(reply.get(), ldns().ldns_pkt_rd(query.get()));
  ldns().ldns_pkt_set_ra(reply.get(), true);
  ldns().ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns().ldns_rr_clone(question));
  if (address.empty()) {
    ldns().ldns_pkt_set_rcode(reply.get(), LDNS_RCODE_SERVFAIL);
  } else {
    ldns().ldns_pkt_set_aa(reply.get(), true);
    if (ldns().ldns_rr_get_type(question) == LDNS_RR_TYPE_A) {
      ldns_rr* rr = nullptr;
      std::string text = fmt::format("{}. 0 IN A {}", name, address);
      if (ldns().ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK)
        ldns().ldns_pkt_push_rr(reply.get(), LDNS_SECTION_ANSWER, rr);
    }  // other types of a container's name: no records, no error (NODATA)
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns().ldns_pkt2wire(&wire, reply.get(), &size) != LDNS_STATUS_OK) return "";
  std::string out(reinterpret_cast<char*>(wire), size);
  std::free(wire);
  return out;
}

[[noreturn]] void serve(const std::string& root, const std::string& network,
                        const std::string& address, int socket_fd) {
  std::string record = root + "/networks/" + network + ".json";
  std::vector<uint8_t> buf(4096);
  for (;;) {
    auto ready = base::sys::poll_one(socket_fd, POLLIN, 1000);
    if (::access(record.c_str(), F_OK) != 0) ::_exit(0);  // the network was removed
    if (!ready || *ready == 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(socket_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           &from_len);
    if (n <= 0) continue;
    std::string reply = answer(root, network, address, buf.data(), static_cast<size_t>(n));
    if (!reply.empty())
      ::sendto(socket_fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
  }
}

}  // namespace

base::Status ensure_dns_responder(const std::string& root, const std::string& state_dir,
                                  const std::string& network, const std::string& address) {
  if (!ldns().error.empty()) return base::fail_msg(ldns().error);
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  std::string lock_path = fmt::format("{}/dns-{}.lock", state_dir, network);
  base::UniqueFd lock = TRY(base::sys::open(lock_path, O_RDWR | O_CREAT, 0600));
  auto locked = base::sys::flock_exclusive(lock.get(), lock_path);
  if (!locked || !*locked) return {};  // a responder holds it
  // Bound here, so that the caller's container finds it listening.
  auto bound = [&]() -> base::Result<base::UniqueFd> {
    base::UniqueFd s = TRY(base::sys::socket(AF_INET, SOCK_DGRAM));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
      return base::fail(base::Error::sys(EINVAL, "inet_pton", address));
    TRY_STATUS(base::sys::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a));
    return s;
  }();
  if (!bound)
    return base::fail(
        base::Error::sys(bound.error().code(), "bind DNS responder", address + ":53"));
  base::UniqueFd s = std::move(*bound);
  pid_t child = TRY(base::sys::fork("DNS responder"));
  if (child == 0) {  // a daemon: its own session, holding the lock and the socket only
    (void)base::sys::setsid();
    auto daemon = base::sys::fork();
    if (!daemon || *daemon != 0) ::_exit(0);
    (void)base::sys::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("berth-dns"));
    auto null_fd = base::sys::open("/dev/null", O_RDWR);
    if (null_fd)
      for (int fd : {0, 1, 2}) (void)base::sys::dup2(null_fd->get(), fd);
    // Every other fd goes: a lock of the caller's (its container's) must not
    // live on in the daemon.
    auto kept_lock = base::sys::dup(lock.get(), 1000);
    auto kept_socket = base::sys::dup(s.get(), 1001);
    if (!kept_lock || *kept_lock != 1000 || !kept_socket || *kept_socket != 1001) ::_exit(1);
    (void)base::sys::close_range(3, 999, 0);
    (void)base::sys::close_range(1002, ~0u, 0);
    serve(root, network, address, *kept_socket);
  }
  (void)base::sys::waitpid(child, false);
  return {};
}

}  // namespace berth
