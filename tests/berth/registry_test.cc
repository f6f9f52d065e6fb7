// berth pull / login / logout against a real registry (Debian's
// docker-registry on 127.0.0.1) holding images skopeo pushed from OCI layouts
// built here: gzip and zstd layers, both kinds of whiteout, a manifest list,
// TLS with a private CA, and token auth. Hostile answers (bad digests,
// truncated layers, path traversal, malformed manifests) come from a fake
// registry that serves whatever the test wrote.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;
using bt::json;

// An OCI layout with "box:1": busybox (gzip) + a layer (zstd) adding /marker.
struct BoxLayout {
  e2e::TempDir dir;
  bt::OciLayout layout{dir / "layout"};
  json base_layer, marker_layer, image;
  BoxLayout() {
    bt::make_busybox_root(dir / "base");
    base_layer = layout.add_layer(dir / "base", "gzip");
    fs::create_directories(dir / "marker");
    e2e::write_file(dir / "marker/marker", "from the registry\n");
    marker_layer = layout.add_layer(dir / "marker", "zstd");
    image = layout.add_image({base_layer, marker_layer}, "amd64", {"cat", "/marker"});
    layout.tag(image, "1");
  }
};

// A registry of `kind` holding BoxLayout's image as `repo_tag`, and an empty engine.
struct PushedBox {
  bt::Registry reg;
  BoxLayout box;
  bt::Engine e{false, false};
  std::string name;
  PushedBox(bt::Registry::Kind kind, const std::string& repo_tag)
      : reg(kind), name(reg.host() + "/" + repo_tag) {
    auto push = reg.push(box.layout.dir(), "1", repo_tag);
    EXPECT_EQ(push.exit_code, 0) << push.err;
  }
};

TEST(BerthRegistry, PullsOverPlainHttpWithGzipAndZstdLayersAndRunsTheImage) {
  PushedBox p(bt::Registry::Kind::kPlainHttp, "tools/box:1");
  auto& [reg, box, e, name] = p;

  // A registry elsewhere that is not reached over HTTPS says how to allow HTTP
  // (asked from an empty network namespace: no packet leaves).
  std::vector<std::string> argv = {"/usr/bin/unshare", "--net"};
  for (auto& w : e.command({"pull", "10.255.255.1:1/tools/box:1"})) argv.push_back(w);
  auto refused = e2e::Process(argv).wait(std::chrono::seconds(60));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--insecure"), std::string::npos) << refused.err;

  // One on 127.0.0.0/8 may answer over plain HTTP unasked, as docker has it.
  auto pulled = e.berth({"pull", name});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.err.find("pull complete"), std::string::npos) << pulled.err;
  auto inspect = json::parse(e.berth({"inspect", name}).out)[0];
  EXPECT_EQ(inspect["ManifestDigest"], box.image["digest"]);
  EXPECT_EQ(inspect["Id"].get<std::string>() + "\n", pulled.out);
  ASSERT_EQ(inspect["LayerDirs"].size(), 2u);
  auto run = e.berth({"run", "--rm", "--network", "none", name});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "from the registry\n") << "the image's Cmd, over both layers";

  // The layers are unpacked once: a second pull (here by digest) reuses them.
  std::string by_digest = reg.host() + "/tools/box@" + box.image["digest"].get<std::string>();
  auto again = e.berth({"pull", "--insecure", by_digest});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(again.out, pulled.out);

  // run pulls an image it does not have (--pull missing, docker's default);
  // --pull never does not.
  bt::Engine fresh{false, false};
  auto never = fresh.berth({"run", "--rm", "--pull", "never", "--network", "none", name});
  EXPECT_EQ(never.exit_code, 125);
  EXPECT_NE(never.err.find("no such image"), std::string::npos) << never.err;
  auto first_run = fresh.berth({"run", "--rm", "--network", "none", name});
  EXPECT_EQ(first_run.exit_code, 0) << first_run.err;
  EXPECT_EQ(first_run.out, "from the registry\n");
  EXPECT_NE(first_run.err.find("Unable to find image '" + name + "' locally"), std::string::npos)
      << first_run.err;
}

TEST(BerthRegistry, InsecureRegistriesCanBeListedInTheStoreSettings) {
  bt::Registry reg(bt::Registry::Kind::kPlainHttp);
  BoxLayout box;
  ASSERT_EQ(reg.push(box.layout.dir(), "1", "box:1").exit_code, 0);
  bt::Engine e(false, false);
  fs::create_directories(e.store(""));
  e2e::write_file(e.store("registries.json"), json{{"insecure", {reg.host()}}}.dump());
  auto pulled = e.berth({"pull", "-q", reg.host() + "/box:1"});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(pulled.err, "") << "-q prints only the id";
}

TEST(BerthRegistry, ManifestListPicksThePlatform) {
  bt::Registry reg(bt::Registry::Kind::kPlainHttp);
  e2e::TempDir dir;
  bt::OciLayout layout(dir / "layout");
  bt::make_busybox_root(dir / "base");
  json base = layout.add_layer(dir / "base", "gzip");
  std::vector<json> images;
  for (const char* arch : {"amd64", "arm64"}) {
    fs::create_directories(dir / arch);
    e2e::write_file(dir / (std::string(arch) + "/arch"), arch);
    images.push_back(layout.add_image({base, layout.add_layer(dir / arch, "gzip")}, arch));
  }
  json list = layout.add_index(images);
  layout.tag(list, "multi");
  auto push = reg.push(layout.dir(), "multi", "multi:1");
  ASSERT_EQ(push.exit_code, 0) << push.err;
  bt::Engine e(false, false);
  std::string name = reg.host() + "/multi:1";

  auto host = e.berth({"pull", "--insecure", name});
  ASSERT_EQ(host.exit_code, 0) << host.err;
  EXPECT_NE(host.err.find("Digest: " + list["digest"].get<std::string>()), std::string::npos)
      << host.err;
  auto inspect = json::parse(e.berth({"inspect", name}).out)[0];
  EXPECT_EQ(inspect["Architecture"], "amd64");
  EXPECT_EQ(inspect["ManifestDigest"], images[0]["digest"]);

  auto arm = e.berth({"pull", "--insecure", "--platform", "linux/arm64", name});
  ASSERT_EQ(arm.exit_code, 0) << arm.err;
  inspect = json::parse(e.berth({"inspect", name}).out)[0];
  EXPECT_EQ(inspect["Architecture"], "arm64");
  std::string arm_layer = inspect["LayerDirs"][1];
  EXPECT_EQ(e2e::read_file(arm_layer + "/arch"), "arm64");

  auto none = e.berth({"pull", "--insecure", "--platform", "linux/s390x", name});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("no image for platform linux/s390x"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("linux/amd64, linux/arm64"), std::string::npos) << none.err;
}

TEST(BerthRegistry, WhiteoutsInAPulledLayerHideLowerFiles) {
  bt::Registry reg(bt::Registry::Kind::kPlainHttp);
  e2e::TempDir dir;
  bt::OciLayout layout(dir / "layout");
  std::string lower = dir / "lower", upper = dir / "upper";
  bt::make_busybox_root(lower);
  fs::create_directories(lower + "/data/sub");
  e2e::write_file(lower + "/data/removed", "x");
  e2e::write_file(lower + "/data/kept", "x");
  e2e::write_file(lower + "/data/sub/old", "x");
  fs::create_directories(upper + "/data/sub");
  e2e::write_file(upper + "/data/.wh.removed", "");
  e2e::write_file(upper + "/data/sub/.wh..wh..opq", "");
  e2e::write_file(upper + "/data/sub/new", "x");
  json image =
      layout.add_image({layout.add_layer(lower, "gzip"), layout.add_layer(upper, "zstd")}, "amd64");
  layout.tag(image, "wh");
  ASSERT_EQ(reg.push(layout.dir(), "wh", "wh:1").exit_code, 0);
  bt::Engine e(false, false);
  ASSERT_EQ(e.berth({"pull", "--insecure", reg.host() + "/wh:1"}).exit_code, 0);
  auto run = e.berth({"run", "--rm", "--network", "none", reg.host() + "/wh:1", "sh", "-c",
                      "ls /data; ls /data/sub"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "kept\nsub\nnew\n");
}

TEST(BerthRegistry, TlsWithThePrivateCaInCertsD) {
  PushedBox p(bt::Registry::Kind::kTls, "box:1");
  auto& [reg, box, e, name] = p;
  auto untrusted = e.berth({"pull", name});
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  fs::create_directories(e.store("certs.d/" + reg.host()));
  fs::copy_file(reg.ca_cert(), e.store("certs.d/" + reg.host() + "/ca.crt"));
  auto pulled = e.berth({"pull", name});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
}

TEST(BerthRegistry, TokenAuthLoginPullAndLogout) {
  PushedBox p(bt::Registry::Kind::kTokenAuth, "private/box:1");
  auto& [reg, box, e, name] = p;

  auto anonymous = e.berth({"pull", "--insecure", name});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.err.find("berth login " + reg.host()), std::string::npos) << anonymous.err;

  auto wrong =
      e.berth({"login", "--insecure", "-u", bt::Registry::kUser, "-p", "nope", reg.host()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("refused"), std::string::npos) << wrong.err;
  EXPECT_FALSE(e2e::exists(e.store("auth.json")));

  auto login = e.berth({"login", "--insecure", "-u", bt::Registry::kUser, "-p",
                        bt::Registry::kPassword, reg.host()});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_EQ(login.out, "Login Succeeded\n");
  struct stat st {};
  ASSERT_EQ(::stat(e.store("auth.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(e2e::read_file(e.store("auth.json")).find(bt::Registry::kPassword), std::string::npos)
      << "not in clear text";

  auto pulled = e.berth({"pull", "--insecure", name});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(reg.token_log().find("scope=repository%3Aprivate%2Fbox%3Apull"), std::string::npos)
      << reg.token_log();
  EXPECT_EQ(e.berth({"run", "--rm", "--network", "none", name}).out, "from the registry\n");

  EXPECT_EQ(e.berth({"logout", reg.host()}).exit_code, 0);
  auto twice = e.berth({"logout", reg.host()});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("not logged in"), std::string::npos);
}

TEST(BerthRegistry, BasicAuthOverTlsWithHtpasswd) {
  PushedBox p(bt::Registry::Kind::kBasicAuth, "team/box:1");
  auto& [reg, box, e, name] = p;
  fs::create_directories(e.store("certs.d/" + reg.host()));
  fs::copy_file(reg.ca_cert(), e.store("certs.d/" + reg.host() + "/ca.crt"));

  auto anonymous = e.berth({"pull", name});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.err.find("berth login " + reg.host()), std::string::npos) << anonymous.err;

  auto wrong = e.berth({"login", "-u", bt::Registry::kUser, "-p", "nope", reg.host()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("refused"), std::string::npos) << wrong.err;
  EXPECT_FALSE(e2e::exists(e.store("auth.json")));

  auto login =
      e.berth({"login", "-u", bt::Registry::kUser, "-p", bt::Registry::kPassword, reg.host()});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  auto pulled = e.berth({"pull", name});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(e.berth({"run", "--rm", "--network", "none", name}).out, "from the registry\n");
}

// Hostile or broken registry answers, from the static registry.
class Hostile : public ::testing::Test {
 protected:
  bt::StaticRegistry reg;
  bt::Engine e{false, false};
  e2e::TempDir dir;

  // Serves image "x:1" whose single layer is `layer_bytes` (with the digest
  // `layer_digest`, or the true one) and whose config claims `diff_id`.
  void serve(const std::string& layer_bytes, std::string layer_digest = {}, uint64_t size = 0,
             std::string diff_id = {}) {
    bt::OciLayout scratch(dir / "scratch");
    std::string true_digest = scratch.put_blob(layer_bytes);
    if (layer_digest.empty()) layer_digest = true_digest;
    if (diff_id.empty()) diff_id = true_digest;  // an uncompressed layer
    reg.blob(layer_digest, layer_bytes);
    json config = {{"architecture", "amd64"},
                   {"os", "linux"},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
    std::string config_text = config.dump();
    std::string config_digest = scratch.put_blob(config_text);
    reg.blob(config_digest, config_text);
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", config_digest},
                       {"size", config_text.size()}}},
                     {"layers",
                      {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                        {"digest", layer_digest},
                        {"size", size ? size : layer_bytes.size()}}}}};
    reg.manifest("1", manifest.dump());
  }
  std::string tar_of(const std::string& python_adds) {
    std::string py = fmt::format(
        "import io, tarfile, sys\n"
        "t = tarfile.open('{}', 'w')\n"
        "def add(name, data=b''):\n"
        "    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n"
        "{}\nt.close()\n",
        dir / "t.tar", python_adds);
    e2e::write_file(dir / "t.py", py);
    auto r = e2e::Process({"/usr/bin/python3", dir / "t.py"}).wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return e2e::read_file(dir / "t.tar");
  }
  e2e::ProcResult pull() { return e.berth({"pull", "--insecure", reg.host() + "/x:1"}); }
  // Nothing named, no layer, no temporary left in the store.
  void expect_nothing_kept() {
    EXPECT_EQ(e.berth({"images", "-q"}).out, "");
    if (fs::exists(e.store("layers")))
      for (const auto& entry : fs::directory_iterator(e.store("layers")))
        ADD_FAILURE() << "left in the layer store: " << entry.path();
  }
};

TEST_F(Hostile, UnknownImageAndBadReference) {
  auto missing = e.berth({"pull", "--insecure", reg.host() + "/nothing:here"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nothing:here: not found"), std::string::npos) << missing.err;
  auto bad = e.berth({"pull", "Not/A Valid:ref!"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("Not/A Valid:ref!"), std::string::npos) << bad.err;
}

TEST_F(Hostile, MalformedManifestNamesTheField) {
  reg.manifest("1", R"({"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:12"}})");
  auto r = pull();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("manifest.config.digest"), std::string::npos) << r.err;
  reg.manifest("1", "{not json");
  r = pull();
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  expect_nothing_kept();
}

TEST_F(Hostile, LayerDigestMismatchIsRefusedAndNothingKept) {
  std::string tar = tar_of("add('file', b'real')");
  serve(tar, "sha256:" + std::string(64, 'a'));
  auto r = pull();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("mismatch"), std::string::npos) << r.err;
  expect_nothing_kept();
  EXPECT_FALSE(e2e::exists(e.store("blobs/sha256/" + std::string(64, 'a'))));
}

TEST_F(Hostile, TruncatedLayerIsRefused) {
  std::string tar = tar_of("add('file', b'x' * 100000)");
  std::string digest = bt::OciLayout(dir / "d").put_blob(tar);
  serve(tar.substr(0, tar.size() / 2), digest, tar.size(), digest);
  auto r = pull();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  expect_nothing_kept();
}

TEST_F(Hostile, PathTraversalInALayerIsRefusedAndWritesNothingOutside) {
  std::string tar = tar_of("add('ok', b'1')\nadd('../../escaped', b'pwned')");
  serve(tar);
  auto r = pull();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("../../escaped"), std::string::npos) << r.err;
  expect_nothing_kept();
  EXPECT_FALSE(e2e::exists(e.store("escaped")));
  EXPECT_FALSE(e2e::exists(e.path("escaped")));
}

TEST_F(Hostile, ConfigThatDisagreesWithTheLayerIsRefused) {
  std::string tar = tar_of("add('file', b'content')");
  serve(tar, {}, 0, "sha256:" + std::string(64, 'b'));
  auto r = pull();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("diff id mismatch"), std::string::npos) << r.err;
  expect_nothing_kept();
}

// kill -9 of a pull in the middle of a layer: the store reads as before, the
// next pull completes, and image prune clears the dead pull's temporaries.
TEST(BerthRegistryCrash, SigkillOfAPullMidLayer) {
  bt::StaticRegistry reg(400 * 1024);  // 400 KiB/s: a 2 MiB layer takes 5 s
  e2e::TempDir dir;
  bt::OciLayout layout(dir / "layout");
  fs::create_directories(dir / "root");
  std::string noise(2 << 20, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 2654435761u) >> 13);
  e2e::write_file(dir / "root/noise", noise);
  json layer = layout.add_layer(dir / "root", "none");
  json image = layout.add_image({layer}, "amd64");
  auto blob = [&](const json& d) {
    return e2e::read_file(layout.dir() + "/blobs/sha256/" +
                          d["digest"].get<std::string>().substr(7));
  };
  json manifest = json::parse(blob(image));
  reg.manifest("1", blob(image));
  reg.blob(manifest["config"]["digest"], blob(manifest["config"]));
  reg.blob(layer["digest"], blob(layer));
  bt::Engine e(false, false);
  e2e::Process pull(e.command({"pull", "--insecure", reg.host() + "/x:1"}));
  auto temporaries = [&] {
    size_t n = 0;
    for (const char* sub : {"blobs/sha256", "layers"})
      if (fs::exists(e.store(sub)))
        for (const auto& entry : fs::directory_iterator(e.store(sub)))
          n += entry.path().filename().string().rfind(".tmp-", 0) == 0;
    return n;
  };
  ASSERT_TRUE(e2e::eventually([&] { return temporaries() > 0; })) << "the pull never started";
  pull.signal(SIGKILL);
  pull.wait();
  auto images = e.berth({"images"});
  EXPECT_EQ(images.exit_code, 0) << images.err;
  EXPECT_EQ(e.berth({"images", "-q"}).out, "");
  EXPECT_EQ(e.berth({"image", "prune"}).exit_code, 0);
  EXPECT_EQ(temporaries(), 0u) << "the dead pull's temporaries are litter";
  auto again = e.berth({"pull", "--insecure", reg.host() + "/x:1"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(e.berth({"images", "-q"}).out.size(), 13u);
}

// A registry that points berth's push at another host (misdirecting_registry.py):
// the saved password and the registry's Authorization header never reach
// it, whether through an upload's Location or a redirect whose 401 names a
// token realm there.
struct Misdirected {
  e2e::TempDir dir;
  int port = bt::free_port(), other = bt::free_port();
  std::unique_ptr<e2e::Process> server;
  bt::Engine e{true, false};
  std::string name;
  explicit Misdirected(const std::string& mode) {
    server = std::make_unique<e2e::Process>(std::vector<std::string>{
        "/usr/bin/python3", BERTH_TEST_FIXTURES "/misdirecting_registry.py", std::to_string(port),
        std::to_string(other), bt::Registry::kUser, bt::Registry::kPassword, mode, log()});
    std::string host = "127.0.0.1:" + std::to_string(port);
    name = host + "/team/box:1";
    EXPECT_TRUE(e2e::eventually([&] {
      return e.berth({"login", "-u", bt::Registry::kUser, "-p", bt::Registry::kPassword, host})
                 .exit_code == 0;
    }));
    EXPECT_EQ(e.berth({"tag", "localhost/box", name}).exit_code, 0);
  }
  ~Misdirected() { server->signal(SIGTERM); }
  std::string log() const { return dir / "requests.log"; }
  // The requests the other port got, and whether any carried credentials.
  std::string elsewhere() const {
    std::string lines, all = e2e::exists(log()) ? e2e::read_file(log()) : "";
    std::istringstream in(all);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(std::to_string(other) + " ", 0) == 0) lines += line + "\n";
    return lines;
  }
};

TEST(BerthRegistryHostile, AnUploadSentElsewhereCarriesNoCredentials) {
  Misdirected m("location");
  auto pushed = m.e.berth({"push", m.name});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  std::string elsewhere = m.elsewhere();
  EXPECT_NE(elsewhere.find(" PUT /upload/"), std::string::npos) << elsewhere;
  EXPECT_EQ(elsewhere.find("Basic"), std::string::npos) << elsewhere;
  EXPECT_EQ(elsewhere.find("Bearer"), std::string::npos) << elsewhere;
  // The registry itself got them, and the manifest.
  EXPECT_NE(e2e::read_file(m.log()).find(" PUT /v2/team/box/manifests/1 Basic "),
            std::string::npos);
}

TEST(BerthRegistryHostile, AChallengeFromWhereARedirectLedIsNotAnswered) {
  Misdirected m("redirect");
  auto pushed = m.e.berth({"push", m.name});
  EXPECT_NE(pushed.exit_code, 0);
  EXPECT_NE(pushed.err.find("HTTP 401"), std::string::npos) << pushed.err;
  EXPECT_EQ(pushed.err.find('\n'), pushed.err.size() - 1) << "one line: " << pushed.err;
  std::string elsewhere = m.elsewhere();
  EXPECT_NE(elsewhere.find(" HEAD /blob "), std::string::npos) << elsewhere;
  EXPECT_EQ(elsewhere.find("/token"), std::string::npos) << "a token was asked for: " << elsewhere;
  EXPECT_EQ(elsewhere.find("Basic"), std::string::npos) << elsewhere;
}

}  // namespace
