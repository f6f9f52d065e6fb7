#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <xxhash.h>

#include "ferry/codec.h"
#include "ferry/connection.h"
#include "ferry/frame.h"
#include "ferry/handshake.h"
#include "ferry/messages.h"
#include "ferry/transport.h"
#include "net/socket.h"

extern char** environ;

namespace e2e {

std::string ferry_bin() {
  return FERRY_BIN;
}
std::string gen_tree_bin() {
  return GEN_TREE_BIN;
}

ProcResult ferry(std::vector<std::string> args, const std::string& token) {
  args.insert(args.begin(), ferry_bin());
  Process p(args, {"FERRY_TOKEN=" + token});
  return p.wait();
}

FerryServer::FerryServer(const std::string& dir, std::vector<std::string> extra,
                         const std::string& token, std::vector<std::string> wrap) {
  std::vector<std::string> argv = std::move(wrap);
  for (std::string a : {ferry_bin(), std::string("serve"), dir, std::string("--listen"),
                        std::string("127.0.0.1:0")})
    argv.push_back(std::move(a));
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<Process>(argv, std::vector<std::string>{"FERRY_TOKEN=" + token});
  bool up = eventually([&] {
    std::string out = proc_->out();
    size_t at = out.find("127.0.0.1:");
    if (at == std::string::npos || out.find(')', at) == std::string::npos) return false;
    port_ = static_cast<uint16_t>(std::stoi(out.substr(at + 10)));
    return true;
  });
  if (!up) ADD_FAILURE() << "ferry serve did not start: " << proc_->err();
}

std::string FerryServer::url(const std::string& path) const {
  return fmt::format("ferry://127.0.0.1:{}/{}", port_, path);
}

namespace {
void collect(const std::string& root, const std::string& rel, std::vector<std::string>* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* de = readdir(d)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    std::string child = rel.empty() ? name : rel + "/" + name;
    out->push_back(child);
    struct stat st;
    if (lstat((root + "/" + child).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      collect(root, child, out);
  }
  closedir(d);
}

std::vector<std::string> entries(const std::string& root) {
  std::vector<std::string> v;
  collect(root, "", &v);
  std::sort(v.begin(), v.end());
  return v;
}

void set_mtime(const std::string& path, time_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}
}  // namespace

std::string listing(const std::string& dir) {
  std::string s;
  for (auto& e : entries(dir)) s += (s.empty() ? "" : " ") + e;
  return s;
}

void make_every_kind_tree(const std::string& d) {
  mkdir(d.c_str(), 0755);
  write_file(d + "/plain.txt", "hello, ferry\n", 0644);
  write_file(d + "/empty", "", 0600);
  write_file(d + "/script.sh", "#!/bin/sh\necho hi\n", 0755);
  mkdir((d + "/sub").c_str(), 0750);
  mkdir((d + "/sub/deeper").c_str(), 0700);
  mkdir((d + "/emptydir").c_str(), 0755);
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  write_file(d + "/sub/deeper/big.bin", big, 0640);
  write_file(d + "/" + std::string("non-utf8-\xff\xfe-name", 15), "odd name\n");
  write_file(d + "/with space and\nnewline", "x");
  symlink("plain.txt", (d + "/link-to-file").c_str());
  symlink("sub/deeper", (d + "/link-to-dir").c_str());
  symlink("/etc/passwd", (d + "/link-absolute").c_str());
  symlink("does/not/exist", (d + "/link-dangling").c_str());
  // Sparse: data, a 20 MiB hole, data, then a hole up to the end.
  int fd = open((d + "/sparse.img").c_str(), O_WRONLY | O_CREAT, 0644);
  (void)!pwrite(fd, "start", 5, 0);
  (void)!pwrite(fd, "middle", 6, 20 << 20);
  (void)!ftruncate(fd, 48 << 20);
  close(fd);
  set_mtime(d + "/plain.txt", 1000000000, 123456789);
  set_mtime(d + "/sub/deeper/big.bin", 1600000000, 5);
  set_mtime(d + "/link-to-file", 1500000000, 0);
  set_mtime(d + "/sub/deeper", 1400000000, 42);
  set_mtime(d + "/sub", 1300000000, 0);
}

testing::AssertionResult trees_equal(const std::string& a, const std::string& b) {
  auto ea = entries(a), eb = entries(b);
  if (ea != eb) {
    return testing::AssertionFailure() << "different entries:\n  " << a << ": " << listing(a)
                                       << "\n  " << b << ": " << listing(b);
  }
  for (const auto& rel : ea) {
    std::string pa = a + "/" + rel, pb = b + "/" + rel;
    struct stat sa, sb;
    lstat(pa.c_str(), &sa);
    lstat(pb.c_str(), &sb);
    auto fail = [&](const std::string& what) {
      return testing::AssertionFailure() << rel << ": " << what << " differs";
    };
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) return fail("type");
    if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) return fail("mode");
    if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
      return fail(fmt::format("mtime ({}.{} vs {}.{})", sa.st_mtim.tv_sec, sa.st_mtim.tv_nsec,
                              sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec));
    if (S_ISLNK(sa.st_mode)) {
      char ta[4096] = {}, tb[4096] = {};
      if (readlink(pa.c_str(), ta, sizeof ta - 1) < 0 ||
          readlink(pb.c_str(), tb, sizeof tb - 1) < 0 || strcmp(ta, tb) != 0)
        return fail("link target");
    }
    if (S_ISREG(sa.st_mode)) {
      if (sa.st_size != sb.st_size) return fail("size");
      if (read_file(pa) != read_file(pb)) return fail("content");
      // Holes kept: the copy may use at most 1 MiB more disk than the original.
      if (sb.st_blocks > sa.st_blocks + 2048) return fail("allocation (holes not kept)");
    }
  }
  return testing::AssertionSuccess();
}

FakeServer::FakeServer(Script script, bool plaintext) {
  auto fd = net::listen_tcp({"127.0.0.1", 0});
  if (!fd) throw std::runtime_error(fd.error().message());
  port_ = static_cast<uint16_t>(std::stoi(net::local_address(fd->get())->to_string().substr(10)));
  listen_fd_ = fd->release();
  thread_ = std::thread([this, plaintext, script = std::move(script)] {
    auto conn = net::accept(listen_fd_);
    if (!conn) return;
    auto security = ferry::Security::make(ferry::tls::Role::kServer, plaintext, kToken);
    if (!security) return;
    auto opened = ferry::open_server_channel(std::move(conn->fd), "client",
                                             std::chrono::milliseconds(30000), *security);
    if (!opened) return;
    ferry::Channel& ch = **opened;
    auto req = ferry::server_handshake(ch, kToken, false);
    if (!req) return;
    script(ch);
    (void)ch.flush();
  });
}

FakeServer::~FakeServer() {
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  close(listen_fd_);
}

std::string FakeServer::url(const std::string& path) const {
  return fmt::format("ferry://127.0.0.1:{}/{}", port_, path);
}

std::unique_ptr<ferry::Channel> connect_raw(uint16_t port, const std::string& token) {
  auto fd = net::connect_tcp({"127.0.0.1", port}, std::chrono::milliseconds(5000));
  if (!fd) throw std::runtime_error(fd.error().message());
  auto security = ferry::Security::make(ferry::tls::Role::kClient, false, token);
  if (!security) throw std::runtime_error(security.error().message());
  auto ch = ferry::open_client_channel(std::move(*fd), "server", std::chrono::milliseconds(30000),
                                       *security);
  if (!ch) throw std::runtime_error(ch.error().message());
  return std::move(*ch);
}

std::unique_ptr<ferry::Channel> connect_plaintext(uint16_t port) {
  auto fd = net::connect_tcp({"127.0.0.1", port}, std::chrono::milliseconds(5000));
  if (!fd) throw std::runtime_error(fd.error().message());
  return std::make_unique<ferry::Channel>(std::make_unique<ferry::PlainTransport>(
      std::move(*fd), "server", std::chrono::milliseconds(30000)));
}

std::unique_ptr<ferry::Channel> connect_authenticated(uint16_t port) {
  auto ch = connect_raw(port);
  auto w = ferry::client_handshake(*ch, kToken);
  if (!w) throw std::runtime_error(w.error().message());
  return ch;
}

std::string raw_data_frame(uint32_t file_id, uint64_t offset, const std::string& data) {
  std::string frame(ferry::kFrameHeaderSize + ferry::kDataPrefixSize, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(frame.data());
  ferry::encode_frame_header(bytes, ferry::FrameType::kData,
                             static_cast<uint32_t>(ferry::kDataPrefixSize + data.size()));
  ferry::encode_data_header(bytes + ferry::kFrameHeaderSize,
                            {file_id, offset, XXH3_64bits(data.data(), data.size())});
  return frame + data;
}

}  // namespace e2e
