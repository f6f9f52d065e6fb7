// pack_layer (berth/image/layer_packer.h) against berth's own unpacking: a
// directory in overlayfs's upper-directory form, with every kind of entry,
// packed, then the blob unpacked into a second store must give the same
// diff id and the same tree; packing the same files again gives the same
// digest. Runs as root (devices, owners, trusted.* attributes).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "berth/image/image_store.h"
#include "berth/image/layer_packer.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using e2e::TempDir;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string attr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

// One line per entry: path, type, mode, owner, then what defines it.
std::string describe(const std::string& root) {
  std::string out;
  std::vector<std::string> paths;
  for (auto& e : fs::recursive_directory_iterator(root)) paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    std::string what;
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      std::string data(std::istreambuf_iterator<char>(in), {});
      what = fmt::format("file of {} bytes #{:x} links {} cap {}", data.size(),
                         std::hash<std::string>()(data), st.st_nlink,
                         attr(p, "security.capability").size());
    } else if (S_ISLNK(st.st_mode)) {
      what = "symlink -> " + fs::read_symlink(p).string();
    } else if (S_ISDIR(st.st_mode)) {
      what = "dir opaque=" + attr(p, "trusted.overlay.opaque") +
             " origin=" + attr(p, "trusted.overlay.origin");
    } else if (S_ISCHR(st.st_mode)) {
      what = fmt::format("chr {}:{}", major(st.st_rdev), minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      what = "fifo";
    }
    // A whiteout's time means nothing: a layer's tar does not carry it.
    bool whiteout = S_ISCHR(st.st_mode) && st.st_rdev == 0;
    out += fmt::format("{} {:o} {}:{} mtime {} {}\n", p.substr(root.size()), st.st_mode & 07777,
                       st.st_uid, st.st_gid, whiteout ? 0 : st.st_mtim.tv_sec, what);
  }
  return out;
}

// The upper directory of a step that did a bit of everything.
void make_upper(const std::string& d) {
  fs::create_directories(d + "/etc/app");
  write(d + "/etc/app/conf", "key=value\n");
  ::chown((d + "/etc/app/conf").c_str(), 1000, 1001);
  ::chmod((d + "/etc/app/conf").c_str(), 0640);
  write(d + "/bin-tool", std::string(3 << 20, 't'));  // several compression blocks
  ::chmod((d + "/bin-tool").c_str(), 04755);
  ::link((d + "/bin-tool").c_str(), (d + "/etc/tool-link").c_str());
  ::symlink("../bin-tool", (d + "/etc/app/tool").c_str());
  // A whiteout (a deleted lower file) and an opaque directory (replaced).
  ::mknod((d + "/etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0));
  fs::create_directories(d + "/var/cache");
  ::setxattr((d + "/var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0);
  write(d + "/var/cache/new", "fresh");
  // overlayfs's own note on a copied-up directory: not part of the layer.
  ::setxattr((d + "/etc").c_str(), "trusted.overlay.origin", "\x00\xfb", 2, 0);
  ::mkfifo((d + "/var/pipe").c_str(), 0600);
  // Names are bytes: UTF-8 and not, packed as they are whatever the locale.
  write(d + "/var/caf\xc3\xa9", "utf-8 name");
  write(d + "/var/raw-\xff\xfe", "not utf-8");
  ::mknod((d + "/var/null").c_str(), S_IFCHR, makedev(1, 3));
  ::chmod((d + "/var/null").c_str(), 0666);
  // cap_net_bind_service=ep (a VFS_CAP_REVISION_2 value).
  const uint32_t cap[5] = {0x02000001, 1u << 10, 0, 0, 0};
  ::setxattr((d + "/bin-tool").c_str(), "security.capability", cap, sizeof cap, 0);
  // Fixed times, deepest first, so the same files pack the same.
  std::vector<std::string> all;
  for (auto& e : fs::recursive_directory_iterator(d)) all.push_back(e.path().string());
  std::sort(all.rbegin(), all.rend());
  struct timespec times[2] = {{1600000000, 5}, {1600000000, 5}};
  for (const auto& p : all) ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

class LayerPacker : public testing::TestWithParam<berth::LayerCompression> {};

TEST_P(LayerPacker, PackedLayerUnpacksToTheSameTreeAndDiffId) {
  TempDir t;
  berth::ImageStore store(t / "store"), other(t / "other");
  ASSERT_TRUE(store.layers().has("sha256:" + std::string(64, '0')) == false);
  std::string upper = t / "store/upper";
  make_upper(upper);
  std::string before = describe(upper);
  auto packed = berth::pack_layer(store, upper, GetParam());
  ASSERT_TRUE(packed) << packed.error().message();
  EXPECT_FALSE(fs::exists(upper)) << "the directory was moved into the store";
  ASSERT_TRUE(store.layers().has(packed->diff_id));
  EXPECT_NE(packed->diff_id, packed->digest);
  EXPECT_EQ(packed->size, fs::file_size(store.content().path(packed->digest)));
  EXPECT_EQ(packed->media_type, GetParam() == berth::LayerCompression::kGzip
                                    ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                    : "application/vnd.oci.image.layer.v1.tar+zstd");
  // The adopted directory: overlayfs's notes gone, the rest as it was.
  std::string adopted = describe(store.layers().path(packed->diff_id));
  std::string expected = before;
  size_t origin = expected.find("origin=\x00\xfb");
  ASSERT_NE(origin, std::string::npos);
  expected.replace(origin, 9, "origin=");
  EXPECT_EQ(adopted, expected);
  // Unpacked by berth from the blob alone: the same tree and diff id.
  auto unpacked = other.layers().unpack(store.content().path(packed->digest));
  ASSERT_TRUE(unpacked) << unpacked.error().message();
  EXPECT_EQ(*unpacked, packed->diff_id);
  EXPECT_EQ(describe(other.layers().path(*unpacked)), adopted);
  // The same files again: the same digest, and the store keeps one copy.
  make_upper(t / "store/again");
  auto again = berth::pack_layer(store, t / "store/again", GetParam());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->digest, packed->digest);
  EXPECT_FALSE(fs::exists(t / "store/again"));
}

TEST_P(LayerPacker, AnEmptyDirectoryIsAnEmptyLayer) {
  TempDir t;
  berth::ImageStore store(t / "store");
  fs::create_directories(t / "store/upper");
  auto packed = berth::pack_layer(store, t / "store/upper", GetParam());
  ASSERT_TRUE(packed) << packed.error().message();
  EXPECT_TRUE(packed->empty);
  EXPECT_TRUE(store.layers().has(packed->diff_id));
}

// A socket a RUN left behind is left out, as docker's layer writer does.
TEST(LayerPackerSockets, ASocketIsLeftOut) {
  TempDir t;
  berth::ImageStore store(t / "store");
  fs::create_directories(t / "store/upper");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = t / "store/upper/left.sock";
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  auto packed = berth::pack_layer(store, t / "store/upper", berth::LayerCompression::kGzip);
  ASSERT_TRUE(packed) << packed.error().message();
  EXPECT_TRUE(packed->empty);
}

TEST(LayerPackerErrors, AMissingDirectoryIsOneLineNamingIt) {
  TempDir t;
  berth::ImageStore store(t / "store");
  auto missing = berth::pack_layer(store, t / "store/none", berth::LayerCompression::kGzip);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("store/none"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Compressions, LayerPacker,
                         testing::Values(berth::LayerCompression::kGzip,
                                         berth::LayerCompression::kZstd),
                         [](const auto& info) {
                           return info.param == berth::LayerCompression::kGzip ? "gzip" : "zstd";
                         });

}  // namespace
