// berth's bridge networking for real, inside each test engine's own network
// namespace: addresses and routes, two containers exchanging a file with
// ferry across the bridge, published ports reached from an "outside"
// namespace (joined to the engine's by a veth pair the test makes) and from
// the engine's loopback, masquerade, isolation between networks, concurrent
// runs, and cleanup after the engine's processes are killed with SIGKILL.
#include <signal.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;
using bt::Engine;
using nlohmann::json;

e2e::ProcResult in_ns(const Engine& e, std::vector<std::string> argv) {
  return e2e::Process(e.in_netns(std::move(argv))).wait(std::chrono::seconds(60));
}

std::string address_of(const Engine& e, const std::string& name) {
  auto r =
      e.berth({"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

// The links, berth's table and reserved addresses left in the engine.
std::string leftovers(const Engine& e) {
  return e.network_leftovers();
}

// Starts container `name` (with `options` for run) whose server answers
// every TCP connection on port 80 with `reply`; returns the run's result.
e2e::ProcResult start_echo_server(const Engine& e, const std::string& name,
                                  const std::string& reply,
                                  const std::vector<std::string>& options = {}) {
  std::vector<std::string> argv = {"run", "-d", "--name", name};
  argv.insert(argv.end(), options.begin(), options.end());
  for (const char* w : {"localhost/box", "sh", "-c"}) argv.push_back(w);
  argv.push_back("while true; do echo " + reply + " | nc -l -p 80; done");
  return e.berth(argv);
}

TEST(BerthNetwork, AContainerGetsAnAddressARouteAndItsNames) {
  Engine e;
  auto r =
      e.berth({"run", "--rm", "--hostname", "box1", "localhost/box", "sh", "-c",
               "ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /sys/class/net/eth0/mtu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inet 172.30.0.2/16"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default via 172.30.0.1 dev eth0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("172.30.0.2\tbox1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1500\n"), std::string::npos) << "the bridge's MTU: " << r.out;
  auto bridge = in_ns(e, {"/usr/bin/ip", "-o", "-4", "addr", "show", e.bridge()});
  EXPECT_NE(bridge.out.find("172.30.0.1/16"), std::string::npos) << bridge.out;
  EXPECT_TRUE(e2e::eventually([&] { return leftovers(e).empty(); })) << leftovers(e);
}

TEST(BerthNetwork, TwoContainersExchangeAFileWithFerryAcrossTheBridge) {
  Engine e;
  std::string root = e.path("ferryroot");
  bt::make_busybox_root(root);
  bt::add_ferry(root);
  fs::create_directories(root + "/srv");
  auto data =
      e2e::Process({"/bin/sh", "-c", "head -c 20000000 /dev/urandom > " + root + "/srv/blob"})
          .wait();
  ASSERT_EQ(data.exit_code, 0);
  ASSERT_EQ(
      e2e::Process({"/bin/tar", "-C", root, "-cf", e.path("ferry.tar"), "."}).wait().exit_code, 0);
  ASSERT_EQ(e.berth({"import", e.path("ferry.tar"), "localhost/ferry"}).exit_code, 0);

  auto server = e.berth({"run", "-d", "--name", "srv", "-e", "FERRY_TOKEN=t0k", "localhost/ferry",
                         "ferry", "serve", "--listen", "0.0.0.0:7077", "/srv"});
  ASSERT_EQ(server.exit_code, 0) << server.err;
  std::string ip = address_of(e, "srv");
  e2e::TempDir out;
  auto client =
      e.berth({"run", "--rm", "-e", "FERRY_TOKEN=t0k", "-v", out.path() + ":/out",
               "localhost/ferry", "ferry", "cp", "ferry://" + ip + ":7077/blob", "/out/blob"});
  ASSERT_EQ(client.exit_code, 0) << client.err << client.out;
  EXPECT_EQ(bt::sha256_of_file(out / "blob"), bt::sha256_of_file(root + "/srv/blob"));
}

// The engine's namespace plays the host; "outside" is another machine on a
// link to it: 10.250.0.1 (host) <-> 10.250.0.2 (outside).
class Outside {
 public:
  explicit Outside(const Engine& e) : e_(e), name_(e.netns() + "-out") {
    run({"/usr/bin/ip", "netns", "add", name_});
    run({"/usr/bin/ip", "-n", e.netns(), "link", "add", "to-out", "type", "veth", "peer", "name",
         "to-host", "netns", name_});
    run({"/usr/bin/ip", "-n", e.netns(), "addr", "add", "10.250.0.1/24", "dev", "to-out"});
    run({"/usr/bin/ip", "-n", e.netns(), "link", "set", "to-out", "up"});
    run({"/usr/bin/ip", "-n", name_, "addr", "add", "10.250.0.2/24", "dev", "to-host"});
    run({"/usr/bin/ip", "-n", name_, "link", "set", "to-host", "up"});
    run({"/usr/bin/ip", "-n", name_, "link", "set", "lo", "up"});
  }
  ~Outside() { e2e::Process({"/usr/bin/ip", "netns", "del", name_}).wait(); }
  e2e::ProcResult exec(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"/usr/bin/ip", "netns", "exec", name_});
    return e2e::Process(argv).wait(std::chrono::seconds(30));
  }
  std::vector<std::string> command(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"/usr/bin/ip", "netns", "exec", name_});
    return argv;
  }

 private:
  static void run(const std::vector<std::string>& argv) {
    auto r = e2e::Process(argv).wait(std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << argv[3] << ": " << r.err;
  }
  const Engine& e_;
  std::string name_;
};

// Two berth roots in one network namespace (two CI jobs): each has its own
// bridge and its own nftables table, so neither rewrites the other's
// published ports away, and removing one's containers leaves the other's.
TEST(BerthNetwork, TwoRootsSideBySideKeepTheirOwnBridgesAndRules) {
  Engine a;
  Engine b(Engine::SameNetns{a});
  ASSERT_NE(a.bridge(), b.bridge());
  // Both define their default network before either has a bridge: the
  // second root must still not take the first's subnet.
  auto subnet_of = [](const Engine& e) {
    auto r = e.berth({"network", "inspect", "berth0"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_array() && !j.empty()) j = j[0];
    return j.is_object() ? j.value("Subnet", "") : "";
  };
  std::string subnet_a = subnet_of(a), subnet_b = subnet_of(b);
  EXPECT_NE(subnet_a, "");
  EXPECT_NE(subnet_a, subnet_b);
  ASSERT_EQ(start_echo_server(a, "web", "from-a", {"-p", "8085:80"}).exit_code, 0);
  ASSERT_EQ(start_echo_server(b, "web", "from-b", {"-p", "8086:80"}).exit_code, 0);
  auto fetch = [&](const char* port) {
    return in_ns(a, {"/usr/bin/nc", "-w", "2", "127.0.0.1", port}).out;
  };
  EXPECT_TRUE(e2e::eventually([&] { return fetch("8085") == "from-a\n"; })) << fetch("8085");
  EXPECT_TRUE(e2e::eventually([&] { return fetch("8086") == "from-b\n"; })) << fetch("8086");
  for (const Engine* e : {&a, &b}) {
    EXPECT_EQ(in_ns(*e, {"/usr/bin/ip", "link", "show", e->bridge()}).exit_code, 0) << e->bridge();
    EXPECT_NE(in_ns(*e, {"/usr/sbin/nft", "list", "chain", "ip", e->table(), "published"})
                  .out.find("dnat"),
              std::string::npos)
        << e->table();
  }
  EXPECT_NE(address_of(a, "web"), address_of(b, "web")) << "the second root's subnet is free";
  // b's work goes; a's rules and service stay.
  ASSERT_EQ(b.berth({"rm", "-f", "web"}).exit_code, 0);
  ASSERT_EQ(b.berth({"run", "--rm", "localhost/box", "true"}).exit_code, 0);
  EXPECT_EQ(fetch("8085"), "from-a\n");
  EXPECT_TRUE(e2e::eventually([&] { return leftovers(b).empty(); })) << leftovers(b);
  EXPECT_NE(in_ns(a, {"/usr/sbin/nft", "list", "chain", "ip", a.table(), "published"})
                .out.find("dport 8085"),
            std::string::npos);
}

TEST(BerthNetwork, PublishedPortsFromOutsideAndFromTheHostsLoopback) {
  Engine e;
  Outside outside(e);
  auto web = start_echo_server(e, "web", "hello", {"-p", "8080:80", "-p", "127.0.0.1:8081:80"});
  ASSERT_EQ(web.exit_code, 0) << web.err;
  EXPECT_EQ(e.berth({"port", "web"}).out, "80/tcp -> 0.0.0.0:8080\n80/tcp -> 127.0.0.1:8081\n");
  EXPECT_NE(e.berth({"ps"}).out.find("0.0.0.0:8080->80/tcp, 127.0.0.1:8081->80/tcp"),
            std::string::npos);
  EXPECT_TRUE(e2e::eventually([&] {
    return (outside.exec({"/usr/bin/nc", "-w", "2", "10.250.0.1", "8080"}).out) == "hello\n";
  })) << "from outside, through DNAT";
  EXPECT_TRUE(e2e::eventually([&] {
    return (in_ns(e, {"/usr/bin/nc", "-w", "2", "127.0.0.1", "8080"}).out) == "hello\n";
  })) << "from the host's own loopback";
  EXPECT_TRUE(e2e::eventually([&] {
    return (in_ns(e, {"/usr/bin/nc", "-w", "2", "127.0.0.1", "8081"}).out) == "hello\n";
  })) << "127.0.0.1:8081 from the host";
  // 8081 listens only on 127.0.0.1: from outside it is refused.
  auto refused = outside.exec({"/usr/bin/nc", "-z", "-w", "2", "10.250.0.1", "8081"});
  EXPECT_NE(refused.exit_code, 0);

  // Outbound: the container reaches the outside, masqueraded as the host.
  e2e::Process listener(outside.command({"/usr/bin/nc", "-n", "-v", "-l", "-p", "9000"}));
  ASSERT_TRUE(e2e::eventually([&] {
    return outside.exec({"/usr/bin/ss", "-ltn", "sport", "=", ":9000"}).out.find("9000") !=
           std::string::npos;
  }));
  auto sent =
      e.berth({"run", "--rm", "localhost/box", "sh", "-c", "echo out | nc -w 2 10.250.0.2 9000"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  auto heard = listener.wait(std::chrono::seconds(10));
  EXPECT_EQ(heard.out, "out\n");
  EXPECT_NE(heard.err.find("10.250.0.1"), std::string::npos) << "masqueraded: " << heard.err;

  ASSERT_EQ(e.berth({"rm", "-f", "web"}).exit_code, 0);
  EXPECT_TRUE(e2e::eventually([&] { return leftovers(e).empty(); })) << leftovers(e);
  auto after = outside.exec({"/usr/bin/nc", "-z", "-w", "1", "10.250.0.1", "8080"});
  EXPECT_NE(after.exit_code, 0) << "the port went with the container";
}

TEST(BerthNetwork, NetworksAreIsolatedFromEachOther) {
  Engine e;
  ASSERT_EQ(e.berth({"network", "create", "front"}).exit_code, 0);
  ASSERT_EQ(e.berth({"network", "create", "--subnet", "10.77.0.0/24", "back"}).exit_code, 0);
  auto twice = e.berth({"network", "create", "back"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("network 'back' already exists"), std::string::npos) << twice.err;
  auto overlap = e.berth({"network", "create", "--subnet", "10.77.0.0/16", "other"});
  EXPECT_NE(overlap.err.find("overlaps"), std::string::npos) << overlap.err;
  auto bad = e.berth({"network", "create", "--subnet", "10.77.0.0", "other"});
  EXPECT_NE(bad.err.find("subnet '10.77.0.0': expected IPv4 CIDR"), std::string::npos) << bad.err;
  auto bad_mtu = e.berth({"network", "create", "--mtu", "100", "other"});
  EXPECT_NE(bad_mtu.err.find("--mtu 100: expected 576 to 65535"), std::string::npos) << bad_mtu.err;
  ASSERT_EQ(e.berth({"network", "create", "--mtu", "9000", "jumbo"}).exit_code, 0);
  auto jumbo = e.berth(
      {"run", "--rm", "--network", "jumbo", "localhost/box", "cat", "/sys/class/net/eth0/mtu"});
  EXPECT_EQ(jumbo.out, "9000\n") << jumbo.err;

  ASSERT_EQ(start_echo_server(e, "db", "db", {"--network", "back"}).exit_code, 0);
  std::string db = address_of(e, "db");
  EXPECT_EQ(db, "10.77.0.2");
  auto same = e.berth(
      {"run", "--rm", "--network", "back", "localhost/box", "sh", "-c", "nc -w 2 " + db + " 80"});
  EXPECT_EQ(same.out, "db\n") << same.err;
  auto other = e.berth({"run", "--rm", "--network", "front", "localhost/box", "sh", "-c",
                        "nc -w 2 " + db + " 80 || echo unreachable"});
  EXPECT_EQ(other.out, "unreachable\n") << other.err;

  auto in_use = e.berth({"network", "rm", "back"});
  EXPECT_NE(in_use.exit_code, 0);
  EXPECT_NE(in_use.err.find("in use by container db"), std::string::npos) << in_use.err;
  auto listed = e.berth({"network", "ls", "--format", "{{.Name}} {{.Subnet}} {{.Containers}}"});
  EXPECT_NE(listed.out.find("back 10.77.0.0/24 1\n"), std::string::npos) << listed.out;
  std::string bridge = nlohmann::json::parse(e.berth({"network", "inspect", "back"}).out)["Bridge"];
  ASSERT_EQ(e.berth({"rm", "-f", "db"}).exit_code, 0);
  EXPECT_EQ(e.berth({"network", "rm", "back"}).exit_code, 0);
  EXPECT_NE(in_ns(e, {"/usr/bin/ip", "link", "show", bridge}).exit_code, 0) << "bridge deleted";
  EXPECT_EQ(e.berth({"network", "ls", "--format", "{{.Name}}"}).out, "front\njumbo\n");
  // berth's table goes with its last network; other tables are never touched.
  ASSERT_EQ(in_ns(e, {"/usr/sbin/nft", "add", "table", "ip", "someone-else"}).exit_code, 0);
  EXPECT_EQ(e.berth({"network", "rm", "front", "jumbo"}).exit_code, 0);
  auto tables = in_ns(e, {"/usr/sbin/nft", "list", "tables"});
  EXPECT_EQ(tables.out, "table ip someone-else\n") << tables.err;
}

TEST(BerthNetwork, ContainersOnAUserNetworkFindEachOtherByName) {
  Engine e;
  ASSERT_EQ(e.berth({"network", "create", "app"}).exit_code, 0);
  ASSERT_EQ(e.berth({"network", "create", "other"}).exit_code, 0);
  ASSERT_EQ(start_echo_server(e, "db", "db-here", {"--network", "app"}).exit_code, 0);
  std::string db = address_of(e, "db");
  auto by_name = e.berth({"run", "--rm", "--network", "app", "localhost/box", "sh", "-c",
                          "cat /etc/resolv.conf; nslookup db; nslookup db.app; nc -w 2 db 80"});
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_NE(by_name.out.find("nameserver 172.31."), std::string::npos) << by_name.out;
  EXPECT_NE(by_name.out.find("Name:\tdb\nAddress: " + db + "\n"), std::string::npos) << by_name.out;
  EXPECT_NE(by_name.out.find("Name:\tdb.app\nAddress: " + db + "\n"), std::string::npos)
      << by_name.out;
  EXPECT_NE(by_name.out.find("db-here\n"), std::string::npos) << "nc to the name: " << by_name.out;
  auto elsewhere = e.berth(
      {"run", "--rm", "--network", "other", "localhost/box", "sh", "-c", "nslookup db || echo no"});
  EXPECT_EQ(elsewhere.out.find("Address: " + db), std::string::npos)
      << "another network's names are not answered: " << elsewhere.out;
  // A container that left is no longer answered.
  ASSERT_EQ(e.berth({"rm", "-f", "db"}).exit_code, 0);
  auto gone = e.berth({"run", "--rm", "--network", "app", "localhost/box", "sh", "-c",
                       "nslookup db || echo not-found"});
  EXPECT_EQ(gone.out.find("Address: " + db), std::string::npos) << gone.out;
}

TEST(BerthNetwork, AContainerCanShareAnothersNetwork) {
  Engine e;
  ASSERT_EQ(start_echo_server(e, "web", "web-here").exit_code, 0);
  std::string web = address_of(e, "web");
  auto shared = e.berth({"run", "--rm", "--network", "container:web", "localhost/box", "sh", "-c",
                         "nc -w 2 127.0.0.1 80; ip -4 -o addr show eth0"});
  ASSERT_EQ(shared.exit_code, 0) << shared.err;
  EXPECT_EQ(shared.out.rfind("web-here\n", 0), 0u) << "web's loopback: " << shared.out;
  EXPECT_NE(shared.out.find("inet " + web + "/"), std::string::npos) << shared.out;
  // Sharing a container with no network of its own: its namespace, whatever it is.
  ASSERT_EQ(e.berth({"run", "-d", "--name", "alone", "--network", "none", "localhost/box", "sleep",
                     "100"})
                .exit_code,
            0);
  auto theirs = e.berth({"exec", "alone", "readlink", "/proc/self/ns/net"});
  auto ours = e.berth({"run", "--rm", "--network", "container:alone", "localhost/box", "readlink",
                       "/proc/self/ns/net"});
  EXPECT_EQ(ours.out, theirs.out) << ours.err;
  ASSERT_EQ(e.berth({"stop", "-t", "1", "alone"}).exit_code, 0);
  auto stopped = e.berth({"run", "--rm", "--network", "container:alone", "localhost/box", "true"});
  EXPECT_NE(stopped.exit_code, 0);
  EXPECT_NE(stopped.err.find("container:alone: that container is not running"), std::string::npos)
      << stopped.err;
}

TEST(BerthNetwork, ConcurrentRunsGetDistinctAddresses) {
  Engine e;
  std::vector<std::unique_ptr<e2e::Process>> runs;
  for (int i = 0; i < 10; ++i)
    runs.push_back(std::make_unique<e2e::Process>(e.command(
        {"run", "-d", "--name", fmt::format("c{}", i), "localhost/box", "sleep", "100"})));
  std::set<std::string> addresses;
  for (int i = 0; i < 10; ++i) {
    auto r = runs[i]->wait(std::chrono::seconds(60));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    addresses.insert(address_of(e, fmt::format("c{}", i)));
  }
  EXPECT_EQ(addresses.size(), 10u);
  EXPECT_EQ(addresses.count("172.30.0.1"), 0u) << "the gateway's";
}

TEST(BerthNetwork, SigkillOfBerthRunAtAnyMomentLeavesNothingBehind) {
  Engine e;
  // Killed before, during and after wiring the network, and after the monitor started.
  for (int delay_ms : {1, 3, 6, 10, 15, 25, 40, 80}) {
    e2e::Process run(e.command({"run", "-d", "localhost/box", "sleep", "100"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    run.signal(SIGKILL);
    run.wait(std::chrono::seconds(30));
  }
  ASSERT_EQ(e.berth({"run", "-d", "localhost/box", "sleep", "100"}).exit_code, 0);  // one whole
  e.berth({"ps", "-a"});  // the next command sweeps what nobody holds
  std::set<std::string> running;
  for (const auto& id : Engine::split(e.berth({"ps", "-q"}).out)) running.insert(id);
  size_t reserved = 0;
  for (const auto& f : fs::directory_iterator(e.store("networks/berth0.ips"))) {
    auto a = nlohmann::json::parse(e2e::read_file(f.path()), nullptr, false);
    ++reserved;
    EXPECT_EQ(running.count(a.value("ContainerId", "").substr(0, 12)), 1u)
        << "an address held for a container that is not running: " << a.dump();
  }
  EXPECT_EQ(reserved, running.size());
  for (const auto& id : Engine::split(e.berth({"ps", "-a", "-q"}).out))
    EXPECT_EQ(e.berth({"rm", "-f", id}).exit_code, 0);
  EXPECT_TRUE(e2e::eventually([&] { return leftovers(e).empty(); })) << leftovers(e);
}

TEST(BerthNetwork, AfterSigkillTheNextCommandCleansUp) {
  Engine e;
  ASSERT_EQ(start_echo_server(e, "victim", "x", {"-p", "8090:80"}).exit_code, 0);
  EXPECT_FALSE(leftovers(e).empty()) << "a veth, an address and a rule while it runs";
  auto rec = nlohmann::json::parse(e.berth({"inspect", "victim"}).out)[0];
  // The monitor and the container die at once, as in a crash.
  // kill(0) or kill(-1) would hit the test itself: a record must name real processes.
  ASSERT_GT(rec["Berth"]["MonitorPid"].get<int>(), 0);
  ASSERT_GT(rec["State"]["Pid"].get<int>(), 0);
  ::kill(rec["Berth"]["MonitorPid"].get<int>(), SIGKILL);
  ::kill(rec["State"]["Pid"].get<int>(), SIGKILL);
  EXPECT_TRUE(e2e::eventually([&] {
    return e.berth({"ps", "-a"}).out.find("Exited (-1)") != std::string::npos;
  }));
  EXPECT_TRUE(e2e::eventually([&] { return leftovers(e).empty(); })) << leftovers(e);
  auto again = e.berth({"start", "victim"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(address_of(e, "victim"), "172.30.0.2") << "its address was free again";
}

}  // namespace
