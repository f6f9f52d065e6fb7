// `network connect` and `network disconnect` against docker's: the same
// words given to a private dockerd and to berth (side_by_side.h), and what
// each container then has: its interfaces, its /etc/hosts, and a neighbour
// on the connected network reaching it by name.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

using bt::SideBySide;

const std::vector<std::string> kInterfaces = {"exec", "c1", "sh", "-c",
                                              "ip -o -4 addr | cut -d' ' -f2 | sort"};
const std::string kNetworks = "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}";

TEST(DockerConnect, ConnectAddsAnInterfaceThatStaysAndDisconnectTakesItAway) {
  SideBySide s;
  s.both_succeed({"network", "create", "n1"});
  s.both_succeed({"run", "-d", "--name", "c1", "IMG", "sleep", "1000"});
  s.both_succeed({"run", "-d", "--name", "d1", "--network", "n1", "IMG", "sleep", "1000"});
  s.same(kInterfaces);  // lo, eth0

  s.same({"network", "connect", "n1", "c1"});
  s.same({"inspect", "-f", kNetworks, "c1"});
  s.same(kInterfaces);  // lo, eth0, eth1
  // A line for each address under its host name, as docker writes them.
  s.same({"exec", "c1", "sh", "-c", "grep -c \"$(hostname)\" /etc/hosts"});
  // Its neighbour on n1 finds it by name, and reaches it.
  s.both_succeed({"exec", "d1", "ping", "-c", "1", "-W", "5", "c1"});
  s.same({"ps", "--filter", "network=n1", "--format", "{{.Names}}"});

  s.refused({"network", "connect", "n1", "c1"}, 1, "already connected to network n1");
  s.refused({"network", "rm", "n1"}, 1, "in use");

  // Kept across a restart.
  s.both_succeed({"stop", "-t", "0", "c1"});
  s.same({"inspect", "-f", kNetworks, "c1"});
  s.both_succeed({"start", "c1"});
  s.same(kInterfaces);
  s.both_succeed({"exec", "d1", "ping", "-c", "1", "-W", "4", "c1"});
  // Each interface has docker's MAC of its address (02:42 and its bytes),
  // the same after the restart, so d1's ARP entry for c1 stayed right.
  auto mac = bt::first_line(
      s.ours({"inspect", "-f", "{{(index .NetworkSettings.Networks \"n1\").MacAddress}}", "c1"})
          .out);
  EXPECT_EQ(mac.substr(0, 6), "02:42:") << mac;
  EXPECT_NE(s.ours({"exec", "c1", "ip", "link", "show", "eth1"}).out.find(mac), std::string::npos)
      << mac;
  // And the bridge keeps an address of its own (set, so not the lowest
  // of its ports, which a starting container could change under d1).
  std::string bridge = nlohmann::json::parse(s.ours({"network", "inspect", "n1"}).out)["Bridge"];
  auto type = e2e::Process({"/usr/sbin/ip", "netns", "exec", s.berth.netns(), "cat",
                            "/sys/class/net/" + bridge + "/addr_assign_type"})
                  .wait();
  EXPECT_EQ(type.out, "3\n") << type.err;  // NET_ADDR_SET

  s.same({"network", "disconnect", "n1", "c1"});
  s.same(kInterfaces);  // lo, eth0 again
  // That network's line is gone; its first network's stays (docker 20.10
  // drops every line of the host name, so the name no longer resolves).
  EXPECT_EQ(s.ours({"exec", "c1", "sh", "-c", "grep -c \"$(hostname)\" /etc/hosts"}).out, "1\n");
  s.same({"inspect", "-f", kNetworks, "c1"});
  s.refused({"network", "disconnect", "n1", "c1"}, 1, "is not connected to network n1");
  // d1 and n1 go; nothing of c1's connection is left on the host.
  s.both_succeed({"rm", "-f", "d1"});
  s.same({"network", "rm", "n1"});
  s.both_succeed({"rm", "-f", "c1"});
  EXPECT_EQ(s.berth.network_leftovers(), "");
}

TEST(DockerConnect, WhatCannotBeConnected) {
  SideBySide s;
  s.both_succeed({"network", "create", "n1"});
  s.both_succeed({"run", "-d", "--name", "c1", "IMG", "sleep", "1000"});
  s.refused({"network", "connect", "nosuch", "c1"}, 1, "nosuch");
  s.refused({"network", "connect", "n1", "nosuch"}, 1, "nosuch");
  // No network of its own to add to.
  s.both_succeed({"run", "-d", "--name", "alone", "--network", "none", "IMG", "sleep", "1000"});
  s.refused({"network", "connect", "n1", "alone"}, 1, "cannot be connected");
  // A container not started yet: connected from its first start on.
  s.both_succeed({"create", "--name", "later", "IMG", "sleep", "1000"});
  s.same({"network", "connect", "n1", "later"});
  s.same({"inspect", "-f", kNetworks, "later"});
  s.both_succeed({"start", "later"});
  s.same({"exec", "later", "sh", "-c", "ip -o -4 addr | cut -d' ' -f2 | sort"});

  // berth's own refusals, each one line naming why.
  for (const auto& words : std::vector<std::vector<std::string>>{
           {"network", "connect", "--ip", "10.9.9.9", "n1", "c1"},
           {"network", "connect", "--alias", "web", "n1", "c1"},
           // The network it was started on stays (docker can take it away).
           {"network", "disconnect", "bridge", "c1"}}) {
    auto r = s.ours(words);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  s.both_succeed({"rm", "-f", "c1", "alone", "later"});
  // prune: the user networks no running container uses go; the default stays.
  s.both_succeed({"network", "create", "n2"});
  s.both_succeed({"run", "-d", "--name", "keeper", "--network", "n2", "IMG", "sleep", "1000"});
  s.same({"network", "prune", "-f"});  // "Deleted Networks:", n1
  s.same({"network", "prune", "-f"});  // nothing more
  s.refused({"network", "rm", "n1"}, 1, "n1");
  s.both_succeed({"rm", "-f", "keeper"});
  s.same({"network", "prune", "-f"});  // n2 now
  EXPECT_EQ(s.berth.network_leftovers(), "");
}

}  // namespace
