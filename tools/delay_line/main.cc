// delay-line: joins two network namespaces through a TUN device in each and
// holds every packet for a one-way delay (both ways), with an optional rate
// limit, queue limit and random loss — netem's job, for a kernel without it.
// Prints "ready" once the path carries packets, runs until SIGTERM or SIGINT,
// then prints one line of counts to stderr and exits 0. Exit codes: 1 the
// path could not be made or broke, 2 bad usage.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "base/sys.h"
#include "base/units.h"
#include "tools/delay_line/cli_values.h"
#include "tools/delay_line/delay_queue.h"
#include "tools/delay_line/forwarder.h"
#include "tools/delay_line/tun_device.h"
#include "tools/delay_line/vnet_frame.h"

namespace delay_line {
namespace {

struct Args {
  std::string ns_a, ns_b, dev_a = "delay-a", dev_b = "delay-b", addr_a, addr_b;
  std::string delay, rate, limit, loss = "0";
  uint64_t seed = 1;
  int mtu = 1500;
};

struct Plan {
  TunOptions a, b;
  DelayConfig queue;
};

// The most one direction may hold (limit + delay * rate): 2 GiB.
constexpr uint64_t kMaxHeld = uint64_t{2} << 30;

// Checks every argument; on a bad one, logs one line naming it.
std::optional<Plan> plan_from(const Args& args) {
  auto bad = [](const std::string& text) {
    base::log::error("{}", text);
    return std::nullopt;
  };
  Plan p;
  for (const auto& [flag, ns] : {std::pair{"--ns-a", &args.ns_a}, {"--ns-b", &args.ns_b}}) {
    if (!valid_netns_name(*ns))
      return bad(fmt::format("{}: '{}' is not a namespace name", flag, *ns));
    if (!base::sys::access("/run/netns/" + *ns, F_OK))
      return bad(fmt::format("{}: no network namespace '{}' (/run/netns/{})", flag, *ns, *ns));
  }
  if (args.ns_a == args.ns_b) return bad("--ns-a and --ns-b name the same namespace");
  for (const auto& [flag, dev] : {std::pair{"--dev-a", &args.dev_a}, {"--dev-b", &args.dev_b}})
    if (!valid_device_name(*dev))
      return bad(fmt::format("{}: '{}' is not an interface name (1-15 bytes, no '/', ':' or space)",
                             flag, *dev));
  if (args.addr_a.empty() != args.addr_b.empty()) return bad("--addr-a and --addr-b go together");
  if (!args.addr_a.empty()) {
    p.a.address = parse_ipv4_prefix(args.addr_a);
    p.b.address = parse_ipv4_prefix(args.addr_b);
    if (!p.a.address)
      return bad(
          fmt::format("--addr-a: '{}' is not an address such as 10.204.1.1/24", args.addr_a));
    if (!p.b.address)
      return bad(
          fmt::format("--addr-b: '{}' is not an address such as 10.204.1.2/24", args.addr_b));
    if (!two_hosts_of_one_subnet(*p.a.address, *p.b.address))
      return bad(fmt::format("--addr-a {} and --addr-b {} are not two hosts of one subnet",
                             args.addr_a, args.addr_b));
  }
  auto delay = parse_duration_ns(args.delay);
  if (!delay)
    return bad(fmt::format(
        "--delay: '{}' is not a duration such as 50ms, 0.2s or 0 (at most 3600s)", args.delay));
  p.queue.delay_ns = *delay;
  if (!args.rate.empty()) {
    auto rate = parse_rate_bps(args.rate);
    if (!rate)
      return bad(fmt::format("--rate: '{}' is not a rate such as 1gbit or 100mbit (8kbit-1tbit)",
                             args.rate));
    p.queue.rate_bps = *rate;
  }
  auto loss = parse_loss(args.loss);
  if (!loss) return bad(fmt::format("--loss: '{}' is not a percentage from 0 to 100", args.loss));
  p.queue.loss = *loss;
  p.queue.seed = args.seed;
  if (!args.limit.empty()) {
    auto limit = base::units::parse_size(args.limit);
    if (!limit || *limit == 0)
      return bad(fmt::format("--limit: '{}' is not a size such as 4M", args.limit));
    p.queue.limit_bytes = *limit;
  } else if (p.queue.rate_bps != 0) {
    // One bandwidth-delay product of the round trip, at least 1 MiB.
    auto bdp = static_cast<unsigned __int128>(p.queue.rate_bps) * 2 * p.queue.delay_ns / 8 /
               1'000'000'000u;
    p.queue.limit_bytes = std::max<uint64_t>(uint64_t{1} << 20, static_cast<uint64_t>(bdp));
  } else {
    p.queue.limit_bytes = uint64_t{64} << 20;
  }
  uint64_t held = DelayQueue(p.queue).max_held_bytes(kMaxFrame);
  if (held > kMaxHeld)
    return bad(fmt::format("--limit plus --delay times --rate would hold {} each way; at most {}",
                           base::units::bytes(held), base::units::bytes(kMaxHeld)));
  p.a.netns = args.ns_a;
  p.b.netns = args.ns_b;
  p.a.name = args.dev_a;
  p.b.name = args.dev_b;
  p.a.mtu = p.b.mtu = args.mtu;
  // Loss is per packet on a wire: a super-packet would lose 44 segments at
  // once, so with loss the kernel segments before the delay line sees them.
  p.a.tso = p.b.tso = p.queue.loss == 0;
  return p;
}

int run(const Plan& plan) {
  // Blocked before the devices exist, so a signal at any moment is read
  // from stop_fd (and a closed stdout is an EPIPE, not death).
  constexpr std::array<int, 2> kStop = {SIGTERM, SIGINT};
  constexpr std::array<int, 3> kBlocked = {SIGTERM, SIGINT, SIGPIPE};
  auto blocked = base::sys::block_signals(kBlocked);
  if (!blocked) return base::log::error("{}", blocked.error().message()), 1;
  auto stop = base::sys::signalfd(kStop, "SIGTERM and SIGINT");
  if (!stop) return base::log::error("{}", stop.error().message()), 1;
  auto a = TunDevice::create(plan.a);
  if (!a) return base::log::error("{}", a.error().message()), 1;
  auto b = TunDevice::create(plan.b);
  if (!b) return base::log::error("{}", b.error().message()), 1;
  Forwarder forwarder(*a, *b, plan.queue);
  auto ready = base::sys::write_all(STDOUT_FILENO, "ready\n", 6, "standard output");
  if (!ready) base::log::warn("{}", ready.error().message());
  auto done = forwarder.run(stop->get());
  base::log::info("{}", forwarder.summary());
  if (!done) return base::log::error("{}", done.error().message()), 1;
  return 0;
}

int delay_line_main(int argc, char** argv) {
  base::log::set_program("delay-line");
  CLI::App app{
      "Joins two network namespaces through TUN devices and delays every packet, both ways.\n"
      "Prints 'ready' when the path is up; SIGTERM or SIGINT ends it (the devices go with it)."};
  Args args;
  app.add_option("--ns-a", args.ns_a, "One end: a network namespace under /run/netns")->required();
  app.add_option("--ns-b", args.ns_b, "The other end")->required();
  app.add_option("--dev-a", args.dev_a, "The TUN device made in --ns-a (default delay-a)");
  app.add_option("--dev-b", args.dev_b, "The TUN device made in --ns-b (default delay-b)");
  app.add_option("--addr-a", args.addr_a, "Address of --dev-a, e.g. 10.204.1.1/24");
  app.add_option("--addr-b", args.addr_b, "Address of --dev-b, e.g. 10.204.1.2/24");
  app.add_option("--delay", args.delay, "One-way delay, each way: 50ms, 0.2s, 0 (RTT = 2x)")
      ->required();
  app.add_option("--rate", args.rate,
                 "Link rate each way, as tc writes it: 1gbit, 100mbit (default: none)");
  app.add_option("--limit", args.limit,
                 "Bytes queued for the link before tail drop (default: one RTT x rate, at "
                 "least 1M; without --rate, the bytes held, default 64M)");
  app.add_option("--loss", args.loss,
                 "Random loss each way, in percent: 0.1, 5% (turns off TSO super-packets)");
  app.add_option("--seed", args.seed, "Seed of the loss PRNG (default 1)");
  app.add_option("--mtu", args.mtu, "MTU of both devices (default 1500)")
      ->check(CLI::Range(68, 65535));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    base::log::error("{}", e.what());
    return 2;
  }
  auto plan = plan_from(args);
  if (!plan) return 2;
  return run(*plan);
}

}  // namespace
}  // namespace delay_line

int main(int argc, char** argv) {
  try {
    return delay_line::delay_line_main(argc, argv);
  } catch (const std::exception& e) {  // a bug, but one line and an exit code, never an abort
    base::log::error("internal error: {}", e.what());
  } catch (...) {
    base::log::error("internal error: unknown exception");
  }
  return 1;
}
