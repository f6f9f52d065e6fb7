// berth save / load: a round trip, archives skopeo reads and writes (OCI and
// docker-archive), and hostile archives that must be refused.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;
using bt::Engine;
using bt::json;

e2e::ProcResult skopeo(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/skopeo", "--insecure-policy"});
  return e2e::Process(args).wait(std::chrono::seconds(120));
}

TEST(BerthArchive, SaveLoadRoundTripAndSkopeoReadsTheArchiveBothWays) {
  Engine e;
  std::string tar = e.path("box.tar");
  auto save = e.berth({"save", "-o", tar, "localhost/box"});
  ASSERT_EQ(save.exit_code, 0) << save.err;
  EXPECT_FALSE(e2e::exists(tar + ".berth-part"));
  for (const char* kind : {"oci-archive", "docker-archive"}) {
    auto r = skopeo({"copy", "--quiet", fmt::format("{}:{}", kind, tar),
                     fmt::format("oci:{}:x", e.path(std::string("copy-") + kind))});
    EXPECT_EQ(r.exit_code, 0) << kind << ": " << r.err;
  }
  ASSERT_EQ(e.berth({"rmi", "localhost/box"}).exit_code, 0);
  EXPECT_NE(e.berth({"run", "--rm", "localhost/box", "true"}).exit_code, 0);
  auto load = e.berth({"load", "-i", tar});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(load.out, "Loaded image: localhost/box:latest\n");
  auto run = e.berth({"run", "--rm", "localhost/box", "echo", "back"});
  EXPECT_EQ(run.out, "back\n") << run.err;
}

TEST(BerthArchive, LoadsADockerArchiveSkopeoWrote) {
  e2e::TempDir dir;
  bt::OciLayout layout(dir / "layout");
  bt::make_busybox_root(dir / "root");
  e2e::write_file(dir / "root/hello", "from a docker archive\n");
  layout.tag(layout.add_image({layout.add_layer(dir / "root", "gzip")}, "amd64", {"cat", "/hello"}),
             "1");
  auto copy = skopeo({"copy", "--quiet", "oci:" + layout.dir() + ":1",
                      "docker-archive:" + (dir / "d.tar") + ":localhost/fromdocker:2"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  Engine e(false);
  auto load = e.berth({"load", "-i", dir / "d.tar"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(load.out, "Loaded image: localhost/fromdocker:2\n");
  EXPECT_EQ(e.berth({"run", "--rm", "localhost/fromdocker:2"}).out, "from a docker archive\n");
}

TEST(BerthArchive, HostileArchivesAreRefused) {
  Engine e(false);
  // An entry that climbs out.
  std::string py = fmt::format(
      "import io, tarfile\n"
      "t = tarfile.open('{}', 'w')\n"
      "i = tarfile.TarInfo('../../evil'); i.size = 4; t.addfile(i, io.BytesIO(b'evil'))\n"
      "t.close()\n",
      e.path("climb.tar"));
  e2e::write_file(e.path("climb.py"), py);
  ASSERT_EQ(e2e::Process({"/usr/bin/python3", e.path("climb.py")}).wait().exit_code, 0);
  auto climb = e.berth({"load", "-i", e.path("climb.tar")});
  EXPECT_NE(climb.exit_code, 0);
  EXPECT_NE(climb.err.find("'../../evil' leaves the archive"), std::string::npos) << climb.err;
  EXPECT_FALSE(e2e::exists(e.store("../evil")));

  // An OCI layout whose blob does not match its name.
  bt::OciLayout layout(e.path("bad"));
  bt::make_busybox_root(e.path("root"));
  json image = layout.add_image({layout.add_layer(e.path("root"), "none")}, "amd64");
  layout.tag(image, "localhost/bad:1");
  std::string manifest = e2e::read_file(layout.dir() + "/blobs/sha256/" +
                                        image["digest"].get<std::string>().substr(7));
  json m = json::parse(manifest);
  std::string layer =
      layout.dir() + "/blobs/sha256/" + m["layers"][0]["digest"].get<std::string>().substr(7);
  std::string bytes = e2e::read_file(layer);
  bytes[bytes.size() / 2] ^= 1;
  e2e::write_file(layer, bytes);
  ASSERT_EQ(e2e::Process({"/bin/tar", "-C", layout.dir(), "-cf", e.path("bad.tar"), "."})
                .wait()
                .exit_code,
            0);
  auto bad = e.berth({"load", "-i", e.path("bad.tar")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("mismatch"), std::string::npos) << bad.err;
  EXPECT_EQ(e.berth({"images", "-q"}).out, "");

  auto missing = e.berth({"load", "-i", e.path("nothing.tar")});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nothing.tar"), std::string::npos) << missing.err;
}

}  // namespace
