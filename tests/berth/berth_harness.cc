#include "tests/berth/berth_harness.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace bt {
namespace fs = std::filesystem;

namespace {

std::string hex_sha256(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void run_ok(const std::vector<std::string>& argv) {
  auto r = e2e::Process(argv).wait(std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err;
}

// A self-signed certificate for 127.0.0.1 and its key.
void make_certificate(const std::string& cert, const std::string& key) {
  run_ok({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
          "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
          "subjectAltName=IP:127.0.0.1"});
}

// An htpasswd entry's hash: bcrypt, the only kind distribution accepts.
std::string bcrypt(const char* password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!::crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt, sizeof salt)) return "";
  crypt_data data{};
  const char* hash = ::crypt_r(password, salt, &data);
  return hash ? hash : "";
}

std::string fixture(const std::string& name) {
  return std::string(BERTH_TEST_FIXTURES) + "/" + name;
}

}  // namespace

void make_busybox_root(const std::string& root) {
  fs::create_directories(root + "/bin");
  for (const char* d : {"proc", "sys", "dev", "etc", "tmp"}) fs::create_directories(root + "/" + d);
  fs::copy_file("/bin/busybox", root + "/bin/busybox");
  for (const char* a : {"sh",       "echo", "cat", "sleep", "hostname", "id",   "ls",  "grep",
                        "touch",    "true", "wc",  "env",   "pwd",      "head", "ps",  "uname",
                        "readlink", "nc",   "ip",  "ping",  "nslookup", "sed",  "cut", "tr"})
    fs::create_symlink("busybox", root + "/bin/" + a);
}

void add_ferry(const std::string& root) {
  fs::copy_file(FERRY_BIN, root + "/bin/ferry", fs::copy_options::overwrite_existing);
  // ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
  auto ldd = e2e::Process({"/usr/bin/ldd", FERRY_BIN}).wait();
  std::stringstream in(ldd.out);
  for (std::string word; in >> word;) {
    if (word.front() != '/') continue;
    fs::create_directories(root + fs::path(word).parent_path().string());
    fs::copy_file(word, root + word, fs::copy_options::overwrite_existing);
  }
}

std::string sha256_of_file(const std::string& path) {
  return hex_sha256(e2e::read_file(path));
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Engine

std::string Engine::network_leftovers() const {
  auto in_ns = [&](std::vector<std::string> argv) {
    return e2e::Process(in_netns(std::move(argv))).wait(std::chrono::seconds(60)).out;
  };
  std::string out;  // berth's veths are named vb<id>; the test's own are not
  std::stringstream links(in_ns({"/usr/bin/ip", "-o", "link", "show", "type", "veth"}));
  for (std::string line; std::getline(links, line);) {
    bool another_roots = line.find("master berth0-") != std::string::npos &&
                         line.find("master " + bridge() + " ") == std::string::npos;
    if (line.find(": vb") != std::string::npos && !another_roots) out += line + "\n";
  }
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(store("networks"), ec)) {
    if (d.is_directory())
      for (const auto& f : fs::directory_iterator(d.path())) out += f.path().string() + "\n";
    else if (d.path().filename().string().find(".tmp.") != std::string::npos)
      out += "half-written: " + d.path().string() + "\n";
  }
  std::string table = in_ns({"/usr/sbin/nft", "list", "chain", "ip", this->table(), "published"});
  if (table.find("dnat") != std::string::npos) out += table;
  return out;
}

std::set<std::string> Engine::container_ids() const {
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& c : fs::directory_iterator(store("containers"), ec)) {
    std::string name = c.path().filename();
    if (name.rfind(".removing-", 0) == 0) name = name.substr(10);
    if (name.size() == 64) ids.insert(name);
  }
  return ids;
}

std::string Engine::host_traces(const std::set<std::string>& given) const {
  std::string out = network_leftovers();
  std::set<std::string> ids = given;
  for (const auto& id : container_ids()) ids.insert(id);
  std::error_code ec;
  for (const auto& c : fs::directory_iterator(store("containers"), ec))
    out += "container files: " + c.path().string() + "\n";
  std::stringstream mounts(e2e::read_file("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);)
    if (line.find(dir_.path() + "/") != std::string::npos) out += "mount: " + line + "\n";
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    for (const auto& id : ids)
      if (fs::exists(h.path() / "berth" / id, ec))
        out += "cgroup: " + (h.path() / "berth" / id).string() + "\n";
  }
  for (const auto& id : ids)
    if (fs::exists(dir_ / ("run/" + id), ec))
      out += "runtime state: " + (dir_ / ("run/" + id)) + "\n";
  return out;
}

std::vector<pid_t> Engine::engine_processes() const {
  std::string marker = dir_ / "store";
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    std::string pid = p.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    try {
      cmdline = e2e::read_file(p.path() / "cmdline");
    } catch (...) {
      continue;
    }
    if (cmdline.find(marker) != std::string::npos && cmdline.find(BERTH_BIN) != std::string::npos)
      out.push_back(std::stoi(pid));
  }
  return out;
}

void Engine::kill_engine_processes() const {
  for (pid_t pid : engine_processes()) ::kill(pid, SIGKILL);
}

Engine::Engine(bool import_box, bool own_netns) {
  static int serial = 0;
  if (own_netns) {
    netns_ = fmt::format("berth-test-{}-{}", ::getpid(), serial++);
    run_ok({"/usr/bin/ip", "netns", "add", netns_});
    run_ok({"/usr/bin/ip", "-n", netns_, "link", "set", "lo", "up"});
    owns_netns_ = true;
  }
  if (import_box) this->import_box();
}

Engine::Engine(SameNetns same) : netns_(same.neighbour.netns_) {
  import_box();
}

void Engine::import_box() {
  std::string root = dir_ / "rootfs";
  make_busybox_root(root);
  auto tar = e2e::Process({"/bin/tar", "-C", root, "-cf", dir_ / "rootfs.tar", "."}).wait();
  EXPECT_EQ(tar.exit_code, 0) << tar.err;
  auto imp = berth({"import", dir_ / "rootfs.tar", "localhost/box"});
  EXPECT_EQ(imp.exit_code, 0) << imp.err;
}

Engine::~Engine() {
  for (const auto& id : split(berth({"ps", "-a", "-q"}).out)) berth({"rm", "-f", id});
  // Monitors finishing (a --rm container's files, a network's teardown)
  // write into the store: the directory goes only after the last of them.
  e2e::eventually([&] { return engine_processes().empty(); }, std::chrono::seconds(20),
                  std::chrono::milliseconds(10));
  if (owns_netns_) {
    // berth's subnet claims for this namespace (/run/berth/subnets/<inode>).
    struct stat st {};
    if (::stat(netns_file().c_str(), &st) == 0)
      fs::remove_all(fmt::format("/run/berth/subnets/{}", st.st_ino));
    e2e::Process({"/usr/bin/ip", "netns", "del", netns_}).wait(std::chrono::seconds(30));
  }
}

std::string Engine::root_tag() const {
  std::string digest = hex_sha256(fs::weakly_canonical(dir_ / "store").string());
  return digest.substr(digest.find(':') + 1, 8);
}

std::vector<std::string> Engine::in_netns(std::vector<std::string> argv) const {
  if (netns_.empty()) return argv;
  argv.insert(argv.begin(), "--net=" + netns_file());
  argv.insert(argv.begin(), "/usr/bin/nsenter");
  return argv;
}

std::vector<std::string> Engine::command(std::vector<std::string> args) const {
  std::vector<std::string> argv = {BERTH_BIN, "--root", dir_ / "store", "--run-root", dir_ / "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  return in_netns(argv);
}

e2e::ProcResult Engine::berth(std::vector<std::string> args) const {
  return e2e::Process(command(std::move(args))).wait(std::chrono::seconds(300));
}

std::vector<std::string> Engine::split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Registry

std::vector<std::string> Registry::in_netns(std::vector<std::string> argv) const {
  if (netns_file_.empty()) return argv;
  argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + netns_file_});
  return argv;
}

bool Registry::listening(int port) const {
  if (netns_file_.empty()) return port_open(port);
  auto probe = e2e::Process(in_netns({"/bin/bash", "-c",
                                      fmt::format("exec 3<>/dev/tcp/127.0.0.1/{}", port)}))
                   .wait(std::chrono::seconds(10));
  return probe.exit_code == 0;
}

Registry::Registry(Kind kind, std::string netns_file)
    : kind_(kind), netns_file_(std::move(netns_file)), port_(free_port()) {
  std::string config = fmt::format(
      "version: 0.1\n"
      "log:\n  level: error\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
      "http:\n  addr: 127.0.0.1:{}\n",
      dir_ / "data", port_);
  if (kind == Kind::kTls || kind == Kind::kBasicAuth) {
    make_certificate(dir_ / "tls.crt", dir_ / "tls.key");
    config += fmt::format("  tls:\n    certificate: {}\n    key: {}\n", dir_ / "tls.crt",
                          dir_ / "tls.key");
  }
  if (kind == Kind::kTokenAuth) {
    make_certificate(dir_ / "token.crt", dir_ / "token.key");
    int token_port = free_port();
    e2e::write_file(dir_ / "tokens.log", "");
    tokens_ = std::make_unique<e2e::Process>(
        in_netns({"/usr/bin/python3", fixture("token_server.py"), std::to_string(token_port),
                  dir_ / "token.key", dir_ / "token.crt", "berth-test-issuer", kUser, kPassword,
                  dir_ / "tokens.log"}));
    config += fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: berth-test-registry\n"
        "    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
        token_port, dir_ / "token.crt");
    EXPECT_TRUE(e2e::eventually([&] { return listening(token_port); }, std::chrono::seconds(30),
                                std::chrono::milliseconds(50)))
        << "token server";
  }
  if (kind == Kind::kBasicAuth) {
    e2e::write_file(dir_ / "htpasswd", std::string(kUser) + ":" + bcrypt(kPassword) + "\n");
    config +=
        fmt::format("auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n", dir_ / "htpasswd");
  }
  e2e::write_file(dir_ / "config.yml", config);
  registry_ = std::make_unique<e2e::Process>(
      in_netns({"/usr/bin/docker-registry", "serve", dir_ / "config.yml"}));
  EXPECT_TRUE(e2e::eventually([&] { return listening(port_); }, std::chrono::seconds(30),
                              std::chrono::milliseconds(50)))
      << "docker-registry did not listen: " << registry_->err();
}

Registry::~Registry() {
  registry_->signal(SIGTERM);
  registry_->wait(std::chrono::seconds(10));
  if (tokens_) {
    tokens_->signal(SIGTERM);
    tokens_->wait(std::chrono::seconds(10));
  }
}

e2e::ProcResult Registry::push(const std::string& layout, const std::string& tag,
                               const std::string& repo_tag) const {
  std::vector<std::string> argv = {"/usr/bin/skopeo", "--insecure-policy", "copy", "--all",
                                   "--quiet"};
  if (kind_ == Kind::kTls || kind_ == Kind::kBasicAuth) {
    argv.push_back("--dest-cert-dir");
    argv.push_back(dir_ / "certs");
    fs::create_directories(dir_ / "certs");
    fs::copy_file(dir_ / "tls.crt", dir_ / "certs/ca.crt", fs::copy_options::overwrite_existing);
  } else {
    argv.push_back("--dest-tls-verify=false");
  }
  if (kind_ == Kind::kTokenAuth || kind_ == Kind::kBasicAuth) {
    argv.push_back("--dest-creds");
    argv.push_back(std::string(kUser) + ":" + kPassword);
  }
  argv.push_back(fmt::format("oci:{}:{}", layout, tag));
  argv.push_back(fmt::format("docker://{}/{}", host(), repo_tag));
  return e2e::Process(in_netns(argv)).wait(std::chrono::seconds(300));
}

// StaticRegistry

StaticRegistry::StaticRegistry(int rate) : port_(free_port()) {
  fs::create_directories(dir_ / "manifests");
  fs::create_directories(dir_ / "blobs");
  server_ = std::make_unique<e2e::Process>(
      std::vector<std::string>{"/usr/bin/python3", fixture("static_registry.py"),
                               std::to_string(port_), dir_.path(), std::to_string(rate)});
  EXPECT_TRUE(e2e::eventually([&] { return port_open(port_); })) << "static registry";
}

StaticRegistry::~StaticRegistry() {
  server_->signal(SIGTERM);
  server_->wait(std::chrono::seconds(10));
}

void StaticRegistry::manifest(const std::string& ref, const std::string& body,
                              const std::string& type) {
  e2e::write_file(dir_ / ("manifests/" + ref), body);
  if (!type.empty()) e2e::write_file(dir_ / ("manifests/" + ref + ".type"), type);
}

void StaticRegistry::blob(const std::string& digest, const std::string& bytes) {
  e2e::write_file(dir_ / ("blobs/" + digest), bytes);
}

// OciLayout

OciLayout::OciLayout(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ + "/blobs/sha256");
  e2e::write_file(dir_ + "/oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
  index_ = {{"schemaVersion", 2}, {"manifests", json::array()}};
  e2e::write_file(dir_ + "/index.json", index_.dump());
}

std::string OciLayout::put_blob(const std::string& bytes) {
  std::string digest = hex_sha256(bytes);
  e2e::write_file(dir_ + "/blobs/sha256/" + digest.substr(7), bytes);
  return digest;
}

json OciLayout::add_layer(const std::string& root, const std::string& compression) {
  std::string tar = dir_ + "/layer.tar";
  run_ok({"/bin/tar", "--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tar, "."});
  std::string diff_id = sha256_of_file(tar);
  std::string media = "application/vnd.oci.image.layer.v1.tar";
  std::string out = tar;
  if (compression == "gzip") {
    run_ok({"/bin/gzip", "-n", "-f", tar});
    out = tar + ".gz";
    media += "+gzip";
  } else if (compression == "zstd") {
    run_ok({"/usr/bin/zstd", "-q", "-f", "--rm", tar});
    out = tar + ".zst";
    media += "+zstd";
  }
  std::string bytes = e2e::read_file(out);
  fs::remove(out);
  std::string digest = put_blob(bytes);
  return {{"mediaType", media}, {"digest", digest}, {"size", bytes.size()}, {"diff_id", diff_id}};
}

json OciLayout::add_image(const std::vector<json>& layers, const std::string& arch,
                          const std::vector<std::string>& cmd) {
  json diff_ids = json::array();
  json descriptors = json::array();
  for (auto l : layers) {
    diff_ids.push_back(l["diff_id"]);
    l.erase("diff_id");
    descriptors.push_back(l);
  }
  json config = {{"architecture", arch},
                 {"os", "linux"},
                 {"config", {{"Cmd", cmd}, {"Env", {"PATH=/bin"}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  std::string config_text = config.dump();
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", put_blob(config_text)},
                     {"size", config_text.size()}}},
                   {"layers", descriptors}};
  std::string text = manifest.dump();
  return {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
          {"digest", put_blob(text)},
          {"size", text.size()},
          {"platform", {{"architecture", arch}, {"os", "linux"}}}};
}

json OciLayout::add_index(const std::vector<json>& manifests) {
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests", manifests}};
  std::string text = index.dump();
  return {{"mediaType", "application/vnd.oci.image.index.v1+json"},
          {"digest", put_blob(text)},
          {"size", text.size()}};
}

void OciLayout::tag(json descriptor, const std::string& tag) {
  descriptor["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  index_["manifests"].push_back(descriptor);
  e2e::write_file(dir_ + "/index.json", index_.dump());
}

}  // namespace bt
