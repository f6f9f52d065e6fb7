// `ferry cp` over ssh against the real thing: Debian's OpenSSH sshd, run in
// a network namespace the test makes, with a host key, a login key and a
// known_hosts file the test makes, reached from a second namespace through a
// veth pair. Covers root and an ordinary user (paths from their home), -r,
// a host key that does not match, a remote without ferry, and the remote
// server going away with its client.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"
#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {

std::string first_field_pair(const std::string& pubkey_line) {
  size_t sp = pubkey_line.find(' ');
  size_t sp2 = pubkey_line.find(' ', sp + 1);
  return pubkey_line.substr(0, sp2);
}

// sshd inside namespace b, listening on b's address, keys in `dir`.
class SshServer {
 public:
  SshServer(const NetnsPair& net, const std::string& dir) : dir_(dir), addr_(net.addr_b()) {
    mkdir("/run/sshd", 0755);                            // sshd's privilege separation directory
    chmod(dir.substr(0, dir.rfind('/')).c_str(), 0755);  // the user's way in
    mkdir(dir.c_str(), 0755);                            // sshd reads authorized_keys as the user
    EXPECT_EQ(sh(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {0}/host_key && "
                             "ssh-keygen -q -t ed25519 -N '' -f {0}/id && "
                             "cp {0}/id.pub {0}/authorized_keys && chmod 644 {0}/authorized_keys",
                             dir)),
              0);
    write_file(dir + "/known_hosts",
               addr_ + " " + first_field_pair(read_file(dir + "/host_key.pub")) + "\n");
    write_file(dir + "/sshd_config",
               fmt::format("ListenAddress {0}:22\nHostKey {1}/host_key\nPidFile {1}/sshd.pid\n"
                           "AuthorizedKeysFile {1}/authorized_keys\n"
                           "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                           "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
                           addr_, dir));
    proc_ = std::make_unique<Process>(
        net.in_b({"/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"}));
    bool up = eventually(
        [&] {
          return Process(net.in_a({"nc", "-z", "-w", "1", addr_, "22"})).wait().exit_code == 0;
        },
        std::chrono::milliseconds(20000), std::chrono::milliseconds(100));
    if (!up) ADD_FAILURE() << "sshd did not start: " << proc_->err();
  }
  // -e for ferry: the test's key, and only the test's known_hosts.
  std::string rsh(const std::string& known_hosts = "") const {
    return fmt::format(
        "ssh -i {0}/id -o UserKnownHostsFile={1} -o StrictHostKeyChecking=yes -o BatchMode=yes "
        "-o ConnectTimeout=10",
        dir_, known_hosts.empty() ? dir_ + "/known_hosts" : known_hosts);
  }
  const std::string& addr() const { return addr_; }
  std::string log() const { return proc_->err(); }

 private:
  std::string dir_, addr_;
  std::unique_ptr<Process> proc_;
};

// An ordinary user whose home is `home` (made and owned by it); removed again.
class TestUser {
 public:
  explicit TestUser(const std::string& home) {
    name_ = fmt::format("fsh{}", getpid() % 1000000);
    EXPECT_EQ(sh(fmt::format("useradd -M -d {0} -s /bin/sh {1} && usermod -p '*' {1} && "
                             "mkdir -p {0} && chown {1}: {0}",
                             home, name_)),
              0);
  }
  ~TestUser() {
    Process({"/bin/sh", "-c", fmt::format("pkill -KILL -u {0}; userdel {0}", name_)}).wait();
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// How many `ferry serve --ssh` processes started as `remote_ferry` run.
int remote_servers(const std::string& remote_ferry) {
  auto r = Process({"/usr/bin/pgrep", "-c", "-f", remote_ferry + " serve --ssh"}).wait();
  return r.exit_code == 0 ? std::stoi(r.out) : 0;
}

class Ssh : public testing::Test {
 protected:
  void SetUp() override {
    // The remote ferry under a name of this test's own, to count its servers.
    ASSERT_EQ(symlink(ferry_bin().c_str(), (t / "ferry").c_str()), 0);
    mkdir((t / "srv").c_str(), 0755);
    mkdir((t / "dl").c_str(), 0755);
    write_file(t / "file.txt", std::string(3 << 20, 'f'));
    ASSERT_EQ(Process({gen_tree_bin(), "file", t / "data.bin", "24M"}).wait().exit_code, 0);
  }
  // ferry cp in namespace a with the test's ssh settings.
  ProcResult cp(std::vector<std::string> args, const std::string& rsh = "") {
    std::vector<std::string> argv = {
        ferry_bin(),      "cp",       "-q", "-e", rsh.empty() ? sshd->rsh() : rsh,
        "--remote-ferry", t / "ferry"};
    argv.insert(argv.end(), args.begin(), args.end());
    // No token in the environment: over ssh ferry makes a fresh one.
    return Process(net.in_a(argv)).wait();
  }
  TempDir t;
  NetnsPair net;
  std::unique_ptr<SshServer> sshd = std::make_unique<SshServer>(net, t / "keys");
};

TEST_F(Ssh, RootUploadsAndDownloadsByAbsolutePath) {
  std::string remote = "root@" + sshd->addr() + ":";
  auto up = cp({t / "data.bin", t / "file.txt", remote + t / "srv/"});
  ASSERT_EQ(up.exit_code, 0) << up.err << sshd->log();
  EXPECT_TRUE(read_file(t / "srv/data.bin") == read_file(t / "data.bin")) << "content differs";
  EXPECT_TRUE(read_file(t / "srv/file.txt") == read_file(t / "file.txt")) << "content differs";
  auto down = cp({"--json", remote + t / "srv/data.bin", t / "dl/"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(read_file(t / "dl/data.bin") == read_file(t / "data.bin")) << "content differs";
  auto j = nlohmann::json::parse(down.out);
  EXPECT_NE(j["protection"].get<std::string>().find("TLSv1.3"), std::string::npos) << j;
  // Each one-transfer server has gone with its transfer.
  EXPECT_TRUE(eventually([&] { return remote_servers(t / "ferry") == 0; }));
}

TEST_F(Ssh, ATreeGoesBothWaysWithR) {
  make_every_kind_tree(t / "tree");
  std::string remote = "root@" + sshd->addr() + ":";
  auto up = cp({"-r", t / "tree", remote + t / "srv"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "srv/tree"));
  auto down = cp({"-r", remote + t / "srv/tree", t / "dl"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(trees_equal(t / "tree", t / "dl/tree"));
}

// ferry sync over ssh does what rsync -a does over the same ssh, both ways:
// the first sync, then one after a change, an addition and a removal.
TEST_F(Ssh, SyncMatchesRsyncOverTheSameSsh) {
  make_every_kind_tree(t / "tree");
  std::string remote = "root@" + sshd->addr() + ":";
  auto rsync = [&](const std::string& from, const std::string& to) {
    return Process(net.in_a({"/usr/bin/rsync", "-a", "--delete", "-e", sshd->rsh(), from, to}))
        .wait();
  };
  auto sync = [&](const std::string& from, const std::string& to) {
    return Process(net.in_a({ferry_bin(), "sync", "-q", "--delete", "-e", sshd->rsh(),
                             "--remote-ferry", t / "ferry", from, to}))
        .wait();
  };
  // Every mtime a second or more in the past: rsync leaves a directory or a
  // link it made within the same second as the source's mtime at its own time.
  auto age = [&] {
    ASSERT_EQ(Process({"/usr/bin/find", t / "tree", "-exec", "touch", "-h", "-d",
                       "2024-01-02 03:04:05.5", "{}", "+"})
                  .wait()
                  .exit_code,
              0);
  };
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      write_file(t / "tree/added.txt", "new\n");
      write_file(t / "data.bin", "changed");
      ASSERT_EQ(::rename((t / "data.bin").c_str(), (t / "tree/data.bin").c_str()), 0);
    }
    age();
    auto r = rsync(t / "tree/", remote + t / "srv/ref/");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto up = sync(t / "tree/", remote + t / "srv/got");
    ASSERT_EQ(up.exit_code, 0) << up.err << sshd->log();
    EXPECT_TRUE(trees_equal(t / "srv/ref", t / "srv/got"));
    auto down = sync(remote + t / "srv/got/", t / "dl/back");
    ASSERT_EQ(down.exit_code, 0) << down.err;
    EXPECT_TRUE(trees_equal(t / "srv/ref", t / "dl/back"));
  }
  EXPECT_TRUE(eventually([&] { return remote_servers(t / "ferry") == 0; }));
}

TEST_F(Ssh, AnOrdinaryUserNamesPathsFromItsHome) {
  TestUser user(t / "home");
  std::string remote = user.name() + "@" + sshd->addr() + ":";
  // As scp: a relative path, and the bare host for the home directory.
  auto up = cp({t / "file.txt", remote + "uploaded.txt"});
  ASSERT_EQ(up.exit_code, 0) << up.err << sshd->log();
  EXPECT_TRUE(read_file(t / "home/uploaded.txt") == read_file(t / "file.txt")) << "differs";
  struct stat st {};
  ASSERT_EQ(stat((t / "home/uploaded.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, getpwnam(user.name().c_str())->pw_uid) << "written as the user";
  auto home = cp({t / "data.bin", remote});
  ASSERT_EQ(home.exit_code, 0) << home.err;
  EXPECT_TRUE(exists(t / "home/data.bin"));
  auto down = cp({remote + "uploaded.txt", t / "dl/back.txt"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(read_file(t / "dl/back.txt") == read_file(t / "file.txt")) << "differs";
  // The user's rights, not root's: a root-only directory stays closed.
  mkdir((t / "rootonly").c_str(), 0700);
  auto denied = cp({t / "file.txt", remote + t / "rootonly/"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_FALSE(exists(t / "rootonly/file.txt"));
}

TEST_F(Ssh, AHostKeyThatDoesNotMatchStopsBeforeAnyTransfer) {
  // known_hosts names the login key as the host's: ssh must refuse.
  write_file(t / "keys/wrong_known_hosts",
             sshd->addr() + " " + first_field_pair(read_file(t / "keys/id.pub")) + "\n");
  auto r = cp({t / "file.txt", "root@" + sshd->addr() + ":" + t / "srv/"},
              sshd->rsh(t / "keys/wrong_known_hosts"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Host key verification failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ferry: ssh root@" + sshd->addr() + ": could not log in"), std::string::npos)
      << r.err;
  EXPECT_EQ(listing(t / "srv"), "");
}

TEST_F(Ssh, ARemoteWithoutFerryIsNamed) {
  std::vector<std::string> argv = {ferry_bin(),
                                   "cp",
                                   "-e",
                                   sshd->rsh(),
                                   "--remote-ferry",
                                   "/nonexistent/ferry",
                                   t / "file.txt",
                                   "root@" + sshd->addr() + ":" + t / "srv/"};
  auto r = Process(net.in_a(argv)).wait();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ferry is not installed there"), std::string::npos) << r.err;
  EXPECT_EQ(listing(t / "srv"), "");
}

TEST_F(Ssh, AMissingRemoteFileIsAnError) {
  auto r = cp({"root@" + sshd->addr() + ":" + t / "srv/nothing-here", t / "dl/"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nothing-here"), std::string::npos) << r.err;
  EXPECT_EQ(listing(t / "dl"), "");
}

TEST_F(Ssh, TheRemoteServerGoesWithAKilledClient) {
  // A download into a pipe that is never read: the transfer stalls, the
  // client is killed, and the remote server must not outlive it.
  std::string big = t / "srv/big.bin";
  ASSERT_EQ(Process({gen_tree_bin(), "file", big, "256M"}).wait().exit_code, 0);
  std::vector<std::string> argv = {
      "/bin/sh", "-c",
      fmt::format("{} cp -q --trace {} -e '{}' --remote-ferry {} root@{}:{} - | sleep 600",
                  ferry_bin(), t / "kill-me.trace", sshd->rsh(), t / "ferry", sshd->addr(), big)};
  Process client(net.in_a(argv));
  ASSERT_TRUE(eventually([&] { return remote_servers(t / "ferry") == 1; }));
  Process({"/usr/bin/pkill", "-KILL", "-f", t / "kill-me.trace"}).wait();
  client.signal(SIGKILL);
  EXPECT_TRUE(eventually([&] { return remote_servers(t / "ferry") == 0; },
                         std::chrono::milliseconds(60000)))
      << "ferry serve --ssh outlived its client";
}

}  // namespace
}  // namespace e2e
