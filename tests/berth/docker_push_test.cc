// push, pull and repository digests against docker's: a private dockerd and
// berth both talk to one Debian docker-registry in dockerd's network
// namespace. Each pulls and runs what the other pushed; both show the same
// RepoDigests, `images --digests` rows, untaggings and refusals. With token
// auth, berth asks for the push scope, and is refused without a login.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

// dockerd, berth (run in dockerd's network namespace) and a registry there.
struct Both {
  dockertest::Dockerd docker;
  bt::Engine berth{true, false};
  std::unique_ptr<bt::Registry> registry;
  Both() {
    EXPECT_TRUE(docker.ready()) << docker.log();
    auto imported = docker.import_image();
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
    registry = std::make_unique<bt::Registry>(bt::Registry::Kind::kPlainHttp, docker.netns_path());
  }
  // "REG" in the words stands for the registry's host:port, "IMG" for each
  // engine's busybox image.
  std::vector<std::string> words_for(std::vector<std::string> words, const char* image) const {
    for (auto& w : words) {
      if (w == "IMG") w = image;
      for (size_t at; (at = w.find("REG")) != std::string::npos;)
        w.replace(at, 3, registry->host());
    }
    return words;
  }
  e2e::ProcResult ours(const std::vector<std::string>& words) const {
    std::vector<std::string> argv = berth.command(words_for(words, "localhost/box"));
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + docker.netns_path()});
    return e2e::Process(argv).wait(std::chrono::seconds(300));
  }
  e2e::ProcResult theirs(const std::vector<std::string>& words) {
    return docker.docker(words_for(words, dockertest::kImage));
  }
  std::string reg() const { return registry->host(); }
};

// The last line of `out`, without its newline.
std::string last_line(const std::string& out) {
  std::string s = out.substr(0, out.find_last_not_of('\n') + 1);
  return s.substr(s.rfind('\n') + 1);
}

TEST(DockerPush, EachEnginePullsAndRunsWhatTheOtherPushed) {
  Both b;
  // berth -> registry -> docker
  auto made = b.ours({"run", "--network", "none", "--name", "maker", "IMG", "sh", "-c",
                      "echo made by berth >/marker"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(b.ours({"commit", "maker", "REG/from-berth:1"}).exit_code, 0);
  auto pushed = b.ours({"push", "REG/from-berth:1"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(bt::first_line(pushed.out),
            "The push refers to repository [" + b.reg() + "/from-berth]");
  EXPECT_NE(pushed.out.find(": Pushed\n"), std::string::npos) << pushed.out;
  std::string our_digest = b.ours({"inspect", "-f", "{{.ManifestDigest}}", "REG/from-berth:1"}).out;
  our_digest = dockertest::trim(our_digest);
  EXPECT_EQ(last_line(pushed.out).rfind("1: digest: " + our_digest + " size: ", 0), 0u)
      << pushed.out;
  auto pulled = b.theirs({"pull", "REG/from-berth:1"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("Digest: " + our_digest), std::string::npos) << pulled.out;
  EXPECT_EQ(b.theirs({"run", "--rm", "REG/from-berth:1", "cat", "/marker"}).out, "made by berth\n");
  // Both know it by the same repository digest.
  const std::vector<std::string> digests = {"image", "inspect", "-f", "{{json .RepoDigests}}",
                                            "REG/from-berth:1"};
  EXPECT_EQ(b.ours(digests).out, b.theirs(digests).out);
  EXPECT_EQ(b.ours(digests).out, "[\"" + b.reg() + "/from-berth@" + our_digest + "\"]\n");

  // docker -> registry -> berth
  ASSERT_EQ(b.theirs({"run", "--name", "maker", "IMG", "sh", "-c", "echo made by docker >/marker"})
                .exit_code,
            0);
  ASSERT_EQ(b.theirs({"commit", "maker", "REG/from-docker:2"}).exit_code, 0);
  ASSERT_EQ(b.theirs({"push", "REG/from-docker:2"}).exit_code, 0);
  auto ours_pulled = b.ours({"pull", "REG/from-docker:2"});
  ASSERT_EQ(ours_pulled.exit_code, 0) << ours_pulled.err;
  EXPECT_EQ(b.ours({"run", "--rm", "--network", "none", "REG/from-docker:2", "cat", "/marker"}).out,
            "made by docker\n");
  const std::vector<std::string> docker_digests = {"image", "inspect", "-f",
                                                   "{{json .RepoDigests}}", "REG/from-docker:2"};
  EXPECT_EQ(b.ours(docker_digests).out, b.theirs(docker_digests).out);
  const std::vector<std::string> rows = {"images", "--digests", "--format",
                                         "{{.Repository}} {{.Tag}} {{.Digest}}", "REG/from-docker"};
  EXPECT_EQ(b.ours(rows).out, b.theirs(rows).out);

  // A second push sends nothing new and gives the same digest.
  auto again = b.ours({"push", "REG/from-docker:2"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find(": Pushed"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find(": Layer already exists"), std::string::npos) << again.out;
  auto quiet = std::vector<std::string>{"push", "-q", "REG/from-docker:2"};
  EXPECT_EQ(b.ours(quiet).out, b.theirs(quiet).out);

  // Untagging takes the repository digest too; a pull by digest brings back
  // an image named by its digest alone ("<none>" tag).
  std::string their_digest = b.theirs(docker_digests).out;
  their_digest = their_digest.substr(their_digest.find('@') + 1, 71);
  const std::vector<std::string> untag = {"rmi", "REG/from-docker:2"};
  auto untag_theirs = b.theirs(untag);
  auto untag_ours = b.ours(untag);
  EXPECT_EQ(untag_ours.exit_code, 0) << untag_ours.err;
  auto untagged = [](const std::string& out) {
    std::string lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("Untagged: ", 0) == 0) lines += line + "\n";
    return lines;
  };
  EXPECT_EQ(untagged(untag_ours.out), untagged(untag_theirs.out));
  EXPECT_EQ(untagged(untag_ours.out), "Untagged: " + b.reg() + "/from-docker:2\nUntagged: " +
                                          b.reg() + "/from-docker@" + their_digest + "\n");
  const std::vector<std::string> by_digest = {"pull", "-q", "REG/from-docker@" + their_digest};
  ASSERT_EQ(b.theirs(by_digest).exit_code, 0);
  ASSERT_EQ(b.ours(by_digest).exit_code, 0);
  EXPECT_EQ(b.ours(rows).out, b.theirs(rows).out);
  EXPECT_EQ(b.ours(rows).out, b.reg() + "/from-docker <none> " + their_digest + "\n");
  EXPECT_EQ(b.ours({"images", "-q", "-f", "dangling=true"}).out, "");
}

TEST(DockerPush, RefusalsAreDockers) {
  Both b;
  for (const auto& [words, why] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"push", "REG/nope:1"}, "An image does not exist locally with the tag: REG/nope"},
           {{"push", "-a", "REG/nope:1"}, "tag can't be used with --all-tags/-a"},
           {{"push", "-a", "nope:1"}, "tag can't be used with --all-tags/-a"},
           {{"push", "REG/nope@sha256:" + std::string(64, 'a')}, "cannot push a digest reference"},
           {{"tag", "IMG", "REG/x@sha256:" + std::string(64, 'a')},
            "refusing to create a tag with a digest reference"},
       }) {
    std::string what = ::testing::PrintToString(words);
    auto t = b.theirs(words);
    auto o = b.ours(words);
    EXPECT_NE(t.exit_code, 0) << what;
    EXPECT_EQ(o.exit_code, t.exit_code) << what << o.err;
    std::string expected = b.words_for({why}, "")[0];
    EXPECT_NE(o.err.find(expected), std::string::npos) << what << o.err;
    EXPECT_NE(t.err.find(expected), std::string::npos) << what << t.err;
  }
}

// Token auth (no dockerd): a push asks for "pull,push"; without a login it is
// refused with the way out named.
TEST(DockerPush, TokenAuthAsksForThePushScope) {
  bt::Registry reg(bt::Registry::Kind::kTokenAuth);
  bt::Engine e(true, false);
  std::string name = reg.host() + "/team/box:3";
  ASSERT_EQ(e.berth({"tag", "localhost/box", name}).exit_code, 0);
  auto anonymous = e.berth({"push", name});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.err.find("berth login " + reg.host()), std::string::npos) << anonymous.err;
  ASSERT_EQ(e.berth({"login", "-u", bt::Registry::kUser, "-p", bt::Registry::kPassword, reg.host()})
                .exit_code,
            0);
  auto pushed = e.berth({"push", name});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_NE(reg.token_log().find("scope=repository%3Ateam%2Fbox%3Apull%2Cpush"), std::string::npos)
      << reg.token_log();
  // What went up comes back whole into another store.
  bt::Engine other(false, false);
  auto login =
      other.berth({"login", "-u", bt::Registry::kUser, "-p", bt::Registry::kPassword, reg.host()});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  auto pulled = other.berth({"pull", "-q", name});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(pulled.out, e.berth({"inspect", "-f", "{{.Id}}", name}).out);
  EXPECT_EQ(other.berth({"run", "--rm", "--network", "none", name, "echo", "up and back"}).out,
            "up and back\n");
}

}  // namespace
