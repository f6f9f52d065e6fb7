// berth's image commands on the real binary: import (plain and gzip), shared
// layers, tags, rmi with garbage collection, whiteouts made for overlayfs,
// and hostile layer tars.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string berth_bin() {
  return BERTH_BIN;
}

class Store {
 public:
  e2e::ProcResult berth(std::vector<std::string> args) {
    std::vector<std::string> argv = {berth_bin(), "--root", root_ / "store"};
    argv.insert(argv.end(), args.begin(), args.end());
    return e2e::Process(argv).wait(std::chrono::seconds(120));
  }
  std::string path(const std::string& rel) const { return root_ / rel; }
  // Writes a tar built by Python's tarfile from `script` (which adds members to `t`).
  std::string make_tar(const std::string& name, const std::string& script,
                       const std::string& mode = "w") {
    std::string out = root_ / name;
    std::string py = fmt::format(
        "import io, tarfile\n"
        "t = tarfile.open('{}', '{}')\n"
        "def add(name, data=b'', kind=tarfile.REGTYPE, link=''):\n"
        "    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data); "
        "i.mode = 0o755\n"
        "    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n"
        "{}\n"
        "t.close()\n",
        out, mode, script);
    e2e::write_file(root_ / "make.py", py);
    auto r = e2e::Process({"/usr/bin/python3", root_ / "make.py"}).wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

 private:
  e2e::TempDir root_;
};

TEST(BerthImages, ImportListTagInspectAndRemove) {
  Store s;
  std::string tar =
      s.make_tar("root.tar", "add('bin', kind=tarfile.DIRTYPE)\nadd('bin/hello', b'hi\\n')");
  auto a = s.berth({"import", tar, "localhost/app:1"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = s.berth({"import", tar, "localhost/other"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(fs::path(s.path("store/layers")).empty(), false);
  size_t layers =
      std::distance(fs::directory_iterator(s.path("store/layers")), fs::directory_iterator());
  EXPECT_EQ(layers, 1u) << "the same layer is unpacked once and shared";

  std::istringstream listed(s.berth({"images", "--format", "json"}).out);
  size_t objects = 0;
  for (std::string l; std::getline(listed, l); ++objects)  // one object a line, as docker's
    EXPECT_FALSE(json::parse(l).value("Size", "").empty()) << l;
  EXPECT_EQ(objects, 2u);
  auto table = s.berth({"images", "--format", "table {{.Repository}}\\t{{.Tag}}"}).out;
  EXPECT_EQ(table.rfind("REPOSITORY        TAG\n", 0), 0u) << table;  // newest first, aligned
  EXPECT_NE(table.find("\nlocalhost/app     1\n"), std::string::npos) << table;
  EXPECT_NE(table.find("\nlocalhost/other   latest\n"), std::string::npos) << table;
  ASSERT_EQ(s.berth({"tag", "localhost/app:1", "app2"}).exit_code, 0);
  auto inspect = json::parse(s.berth({"inspect", "docker.io/library/app2:latest"}).out)[0];
  EXPECT_EQ(inspect["Id"], a.out.substr(0, a.out.size() - 1));
  std::string layer_dir = inspect["LayerDirs"][0];
  EXPECT_EQ(e2e::read_file(layer_dir + "/bin/hello"), "hi\n");
  EXPECT_EQ(s.berth({"inspect", inspect["Id"].get<std::string>().substr(7, 12)}).exit_code, 0)
      << "id prefixes work";

  EXPECT_EQ(s.berth({"rmi", "localhost/app:1", "app2"}).exit_code, 0);
  EXPECT_TRUE(e2e::exists(layer_dir)) << "still used by localhost/other";
  EXPECT_EQ(s.berth({"rmi", "localhost/other"}).exit_code, 0);
  EXPECT_FALSE(e2e::exists(layer_dir));
  EXPECT_TRUE(fs::is_empty(s.path("store/blobs/sha256")));
  auto gone = s.berth({"inspect", "localhost/other"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("no such object: localhost/other"), std::string::npos) << gone.err;
}

TEST(BerthImages, GzipLayersAndWhiteoutsForOverlayfs) {
  Store s;
  std::string tar =
      s.make_tar("wh.tar.gz",
                 "add('etc', kind=tarfile.DIRTYPE)\nadd('etc/.wh.passwd')\n"
                 "add('var', kind=tarfile.DIRTYPE)\nadd('var/.wh..wh..opq')\nadd('var/new', b'x')",
                 "w:gz");
  auto r = s.berth({"import", tar, "localhost/wh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto inspect = json::parse(s.berth({"inspect", "localhost/wh"}).out)[0];
  std::string dir = inspect["LayerDirs"][0];
  struct stat st {};
  ASSERT_EQ(lstat((dir + "/etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
      << "a whiteout is a 0:0 character device";
  EXPECT_FALSE(e2e::exists(dir + "/etc/.wh.passwd"));
  char v[4] = {};
  EXPECT_EQ(getxattr((dir + "/var").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_EQ(e2e::read_file(dir + "/var/new"), "x");
  EXPECT_NE(inspect["Manifest"]["layers"][0]["digest"], inspect["RootFS"]["Layers"][0])
      << "a compressed layer's digest differs from its diff id";
}

TEST(BerthImages, HostileLayersAreRefusedAndLeaveNothing) {
  struct Case {
    const char* what;
    const char* script;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"dot-dot", "add('../escape', b'x')", "entry '../escape' climbs out of the layer"},
           {"absolute", "add('/etc/evil', b'x')", "entry '/etc/evil' has an absolute path"},
           {"hardlink out", "add('h', kind=tarfile.LNKTYPE, link='../../etc/passwd')",
            "climbs out of the layer"},
       }) {
    Store s;
    std::string tar = s.make_tar("bad.tar", c.script);
    auto r = s.berth({"import", tar, "localhost/bad"});
    EXPECT_NE(r.exit_code, 0) << c.what;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.what << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(e2e::exists("/tmp/evil"));
    EXPECT_TRUE(fs::is_empty(s.path("store/layers"))) << c.what;
    EXPECT_TRUE(fs::is_empty(s.path("store/blobs/sha256"))) << c.what;
    EXPECT_EQ(s.berth({"images", "-q"}).out, "");
  }
}

TEST(BerthImages, AnEntryBeneathASymlinkStaysInsideTheLayer) {
  Store s;
  e2e::TempDir outside;
  std::string tar =
      s.make_tar("link.tar",
                 fmt::format("add('link', kind=tarfile.SYMTYPE, link='{}')\nadd('link/evil', b'x')",
                             outside.path()));
  auto r = s.berth({"import", tar, "localhost/link"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_empty(outside.path())) << "written through the symlink";
  auto inspect = json::parse(s.berth({"inspect", "localhost/link"}).out)[0];
  std::string dir = inspect["LayerDirs"][0];
  // The later entry replaces the link with a directory inside the layer, as tar --unlink-first
  // does.
  EXPECT_EQ(e2e::read_file(dir + "/link/evil"), "x");
}

// A file entry whose name an earlier entry holds replaces it, and is never
// written through it: not into a FIFO (the pull would hang), a device node
// (a block device would be the host's disk), or the file a hard link names.
TEST(BerthImages, AFileEntryReplacesWhatHoldsItsName) {
  Store s;
  std::string tar = s.make_tar("replace.tar",
                               "add('f', kind=tarfile.FIFOTYPE)\n"
                               "add('f', b'data')\n"
                               "i = tarfile.TarInfo('n'); i.type = tarfile.CHRTYPE\n"
                               "i.devmajor = 1; i.devminor = 3; t.addfile(i)\n"
                               "add('n', b'x')\n"
                               "add('a', b'orig')\n"
                               "add('b', kind=tarfile.LNKTYPE, link='a')\n"
                               "add('b', b'new')");
  auto r = s.berth({"import", tar, "localhost/replace"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string dir = json::parse(s.berth({"inspect", "localhost/replace"}).out)[0]["LayerDirs"][0];
  for (const char* name : {"f", "n", "a", "b"}) {
    struct stat st {};
    ASSERT_EQ(lstat((dir + "/" + name).c_str(), &st), 0) << name;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << name << " is a regular file now";
    EXPECT_EQ(st.st_nlink, 1u) << name;
  }
  EXPECT_EQ(e2e::read_file(dir + "/f"), "data");
  EXPECT_EQ(e2e::read_file(dir + "/n"), "x");
  EXPECT_EQ(e2e::read_file(dir + "/a"), "orig") << "written through the hard link";
  EXPECT_EQ(e2e::read_file(dir + "/b"), "new");
}

TEST(BerthImages, BadReferencesAndMissingFiles) {
  Store s;
  auto bad = s.berth({"import", "/nonexistent.tar", "localhost/x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("/nonexistent.tar"), std::string::npos) << bad.err;
  std::string tar = s.make_tar("ok.tar", "add('a', b'1')");
  for (const char* ref : {"UPPER/case", "a::b", "x@sha256:123", ""}) {
    auto r = s.berth({"import", tar, ref});
    EXPECT_NE(r.exit_code, 0) << ref;
    EXPECT_NE(r.err.find("image reference"), std::string::npos) << r.err;
  }
}

}  // namespace
