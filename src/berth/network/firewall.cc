#include "berth/network/firewall.h"

#include <nftables/libnftables.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "base/file_lock.h"
#include "base/lazy_library.h"
#include "base/text_file.h"

namespace berth {
namespace {

#define BERTH_NFT_CALLS(X) \
  X(nft_ctx_new)           \
  X(nft_ctx_free) X(nft_ctx_buffer_error) X(nft_ctx_get_error_buffer) X(nft_run_cmd_from_buffer)
struct Nft {
  BERTH_NFT_CALLS(BASE_LAZY_MEMBER)
  std::string error;
};
const Nft& nft() {
  static const Nft t = base::load_calls<Nft>(
      "libnftables.so.1", "libnftables1",
      [](base::LazyLibrary& lib, Nft& t) { return BERTH_NFT_CALLS(BASE_LAZY_BIND) true; });
  return t;
}

base::Status run_nft(const std::string& table, const std::string& script) {
  if (!nft().error.empty()) return base::fail_msg(nft().error);
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft().nft_ctx_new(NFT_CTX_DEFAULT),
                                                   nft().nft_ctx_free);
  if (!ctx) return base::fail_msg("nftables: out of memory");
  nft().nft_ctx_buffer_error(ctx.get());
  if (nft().nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    std::string why = nft().nft_ctx_get_error_buffer(ctx.get());
    while (!why.empty() && why.back() == '\n') why.pop_back();
    auto first_line = why.find('\n');
    return base::fail_msg(
        fmt::format("nftables: table ip {}: {}", table, why.substr(0, first_line)));
  }
  return {};
}

}  // namespace

std::string render_firewall(const std::string& table, const std::vector<Network>& networks,
                            const std::vector<Attachment>& attachments) {
  // Creating, then deleting, then defining: the delete never fails, and the
  // whole buffer is one transaction.
  std::string out = fmt::format("table ip {0}\ndelete table ip {0}\n", table);
  if (networks.empty()) return out;
  out += fmt::format("table ip {} {{\n", table);
  out +=
      "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
      "    fib daddr type local jump published\n  }\n"
      "  chain output {\n    type nat hook output priority -100; policy accept;\n"
      "    fib daddr type local jump published\n  }\n";
  out += "  chain published {\n";
  for (const auto& a : attachments)
    for (const auto& p : a.ports)
      out += fmt::format("    {}{} dport {} dnat to {}:{}\n",
                         p.host_ip.empty() ? "" : "ip daddr " + p.host_ip + " ", p.protocol,
                         p.host_port, a.address, p.container_port);
  out += "  }\n";
  out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const auto& n : networks) {
    out += fmt::format("    ip saddr {} oifname != \"{}\" masquerade\n", n.subnet, n.bridge);
    out += fmt::format("    ip saddr 127.0.0.0/8 oifname \"{}\" masquerade\n", n.bridge);
  }
  out += "  }\n";
  out += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
  for (const auto& from : networks)
    for (const auto& to : networks)
      if (from.bridge != to.bridge)
        out += fmt::format("    iifname \"{}\" oifname \"{}\" drop\n", from.bridge, to.bridge);
  out += "  }\n}\n";
  return out;
}

base::Status sync_firewall(Networks& networks, const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto lock = TRY(base::FileLock::acquire(state_dir + "/firewall.lock"));
  std::vector<Network> list = networks.list();
  std::vector<Attachment> all;
  for (const auto& n : list)
    for (auto& a : networks.attachments(n.name)) all.push_back(std::move(a));
  const std::string& table = networks.host_names().table;
  std::string text = render_firewall(table, list, all);
  std::string applied_path = state_dir + "/firewall.nft";
  if (base::read_text(applied_path).value_or("") == text) return {};
  ::unlink(applied_path.c_str());  // unknown until the new text is in
  TRY_STATUS(run_nft(table, text));
  return base::replace_file(applied_path, text);
}

}  // namespace berth
