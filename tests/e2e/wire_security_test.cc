// ferry's wire protection, tried from outside: a packet capture on a veth
// pair finds none of a file's bytes (and finds them all with --plaintext, so
// the capture is known to see the transfer), a relay that alters one byte in
// flight ends the transfer, a TLS server with a certificate instead of the
// token (OpenSSL's own s_server) is refused, and old, plaintext and TLS peers
// that do not match each get one clear line.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ferry/codec.h"
#include "ferry/frame.h"
#include "ferry/handshake.h"
#include "ferry/messages.h"
#include "net/socket.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/netns_pair.h"

namespace e2e {
namespace {
using namespace ferry;

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// A file of numbered lines that are easy to find in a capture.
std::string marker_lines(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i) s += fmt::format("FERRY-MARKER-{:06d}-PLAINTEXT-LINE\n", i);
  return s;
}

void expect_one_line_error(const ProcResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
}

// tcpdump on namespace a's veth end, writing every packet whole to `file`.
class Capture {
 public:
  Capture(const NetnsPair& net, const std::string& file)
      : proc_(net.in_a({"tcpdump", "-i", net.link_a(), "--immediate-mode", "-U", "-B", "65536",
                        "-s", "0", "-w", file})),
        file_(file) {
    // Capturing once a probe to b (a SYN to a closed port) shows up in the
    // file, past its 24-byte header.
    bool up = eventually(
        [&] {
          Process(net.in_a({"nc", "-z", "-w", "1", net.addr_b(), "9"})).wait();
          return exists(file_) && read_file(file_).size() > 24;
        },
        std::chrono::milliseconds(20000), std::chrono::milliseconds(100));
    if (!up) ADD_FAILURE() << "tcpdump did not start: " << proc_.err();
  }
  // Everything captured (after tcpdump has written it out and stopped).
  std::string stop() {
    // tcpdump may still be writing what it has seen: wait for the file to settle.
    size_t last = SIZE_MAX;
    eventually(
        [&] {
          size_t now = read_file(file_).size();
          bool settled = now == last;
          last = now;
          return settled;
        },
        std::chrono::milliseconds(10000), std::chrono::milliseconds(300));
    proc_.signal(SIGINT);
    report_ = proc_.wait(std::chrono::seconds(30)).err;
    return read_file(file_);
  }
  // What tcpdump said when it stopped (how many packets it saw and dropped).
  const std::string& report() const { return report_; }

 private:
  Process proc_;
  std::string file_;
  std::string report_;
};

class WireSecurity : public testing::Test {
 protected:
  void SetUp() override {
    mkdir((t / "srv").c_str(), 0755);
    mkdir((t / "dl").c_str(), 0755);
    content = marker_lines(20000);  // 780 KB
    write_file(t / "up.txt", content);
    write_file(t / "srv/down.txt", content);
  }
  // Uploads up.txt and downloads down.txt through namespace a, with `flags`.
  void both_ways(const NetnsPair& net, const NsServer& server,
                 const std::vector<std::string>& flags) {
    std::vector<std::string> up = {ferry_bin(), "cp", "-q"};
    up.insert(up.end(), flags.begin(), flags.end());
    std::vector<std::string> down = up;
    up.insert(up.end(), {t / "up.txt", server.url()});
    down.insert(down.end(), {server.url() + "down.txt", t / "dl/"});
    for (auto* argv : {&up, &down}) {
      Process p(net.in_a(*argv), {std::string("FERRY_TOKEN=") + kToken});
      auto r = p.wait();
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    EXPECT_TRUE(read_file(t / "srv/up.txt") == content) << "content differs";
    EXPECT_TRUE(read_file(t / "dl/down.txt") == content) << "content differs";
  }
  TempDir t;
  std::string content;
};

TEST_F(WireSecurity, ACaptureOfBothDirectionsHoldsNoLineOfTheFile) {
  NetnsPair net;
  NsServer server(net, t / "srv");
  Capture capture(net, t / "tls.pcap");
  both_ways(net, server, {});
  std::string wire = capture.stop();
  // The capture saw the transfer: nearly all the bytes of both copies of the
  // file (the control below shows what this capture sees in clear).
  EXPECT_GT(wire.size(), 2 * content.size() * 9 / 10) << capture.report();
  EXPECT_EQ(count_of(wire, "FERRY-MARKER-"), 0u);
  EXPECT_EQ(count_of(wire, "PLAINTEXT-LINE"), 0u);
  EXPECT_EQ(count_of(wire, "up.txt"), 0u) << "file names are protected too";
}

TEST_F(WireSecurity, WithPlaintextOnBothSidesTheSameCaptureSeesEveryLine) {
  // The control for the test above: the capture does see file bytes in clear.
  NetnsPair net;
  NsServer server(net, t / "srv", {"--plaintext"});
  Capture capture(net, t / "plain.pcap");
  both_ways(net, server, {"--plaintext"});
  std::string wire = capture.stop();
  // Both copies; a line split between two segments is not counted.
  EXPECT_GE(count_of(wire, "PLAINTEXT-LINE"), 2u * 20000u * 9 / 10) << capture.report();
}

TEST_F(WireSecurity, TheReportNamesTheProtection) {
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "--json", t / "up.txt", server.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::string p = j["protection"];
  EXPECT_NE(p.find("TLSv1.3"), std::string::npos) << p;
  EXPECT_NE(p.find("psk_dhe_ke"), std::string::npos) << p;
  EXPECT_TRUE(p.find("X25519") != std::string::npos || p.find("prime256v1") != std::string::npos)
      << p;
}

TEST_F(WireSecurity, APlaintextClientAtAnEncryptedServerIsToldWhy) {
  FerryServer server(t / "srv");
  auto r = ferry({"cp", "--plaintext", t / "up.txt", server.url()});
  expect_one_line_error(r, "without --plaintext");
  EXPECT_FALSE(exists(t / "srv/up.txt"));
}

TEST_F(WireSecurity, AnEncryptedClientAtAPlaintextServerIsToldWhy) {
  FerryServer server(t / "srv", {"--plaintext"});
  auto r = ferry({"cp", t / "up.txt", server.url()});
  expect_one_line_error(r, "--plaintext");
  EXPECT_FALSE(exists(t / "srv/up.txt"));
}

TEST_F(WireSecurity, AProtocolOneClientGetsOneClearError) {
  FerryServer server(t / "srv");
  auto ch = connect_plaintext(server.port());
  Hello hello{1, {}};
  ASSERT_TRUE(ch->send(FrameType::kHello, encode(hello)));
  ASSERT_TRUE(ch->flush());
  auto f = ch->recv();
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_EQ(f->type, FrameType::kError);
  auto e = decode_error(f->payload);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("protocol 1 is not supported"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("upgrade"), std::string::npos) << e->message;
}

TEST_F(WireSecurity, AServerWithACertificateInsteadOfTheTokenIsRefused) {
  // OpenSSL's own TLS 1.3 server, with a self-signed certificate and no PSK.
  auto gen = Process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=impostor", "-days", "1",
                      "-keyout", t / "key.pem", "-out", t / "cert.pem"})
                 .wait();
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto probe = net::listen_tcp({"127.0.0.1", 0});
  ASSERT_TRUE(probe);
  std::string port = net::local_address(probe->get())->to_string().substr(10);
  probe = base::UniqueFd();  // free the port for s_server
  Process impostor({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + port, "-tls1_3",
                    "-cert", t / "cert.pem", "-key", t / "key.pem", "-quiet"});
  ASSERT_TRUE(eventually([&] {
    return net::connect_tcp({"127.0.0.1", static_cast<uint16_t>(std::stoi(port))},
                            std::chrono::milliseconds(200))
        .has_value();
  }));
  auto r = ferry({"cp", t / "up.txt", "ferry://127.0.0.1:" + port + "/"});
  expect_one_line_error(r, "not trusted");
  impostor.signal(SIGTERM);
}

// Relays one connection to `to`, changing one byte that goes from the server
// to the client once `after` bytes have gone by.
class TamperingRelay {
 public:
  TamperingRelay(uint16_t to, size_t after) {
    auto fd = net::listen_tcp({"127.0.0.1", 0});
    if (!fd) throw std::runtime_error(fd.error().message());
    port_ = static_cast<uint16_t>(std::stoi(net::local_address(fd->get())->to_string().substr(10)));
    listener_ = std::move(*fd);
    thread_ = std::thread([this, to, after] {
      auto client = net::accept(listener_.get());
      if (!client) return;
      auto server = net::connect_tcp({"127.0.0.1", to}, std::chrono::milliseconds(5000));
      if (!server) return;
      int c = client->fd.get(), s = server->get();
      std::thread up([c, s] { pump(c, s, SIZE_MAX); });
      pump(s, c, after);
      ::shutdown(c, SHUT_RDWR);
      ::shutdown(s, SHUT_RDWR);
      up.join();
    });
  }
  ~TamperingRelay() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  static void pump(int from, int to, size_t flip_at) {
    char buf[65536];
    size_t seen = 0;
    for (;;) {
      ssize_t n = read(from, buf, sizeof buf);
      if (n <= 0) break;
      if (flip_at >= seen && flip_at < seen + static_cast<size_t>(n)) buf[flip_at - seen] ^= 0x20;
      seen += static_cast<size_t>(n);
      // MSG_NOSIGNAL: a peer that has gone is a reason to stop, not a SIGPIPE.
      if (send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_WR);
  }
  base::UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(WireSecurity, OneByteChangedInFlightEndsTheTransferAndWritesNoFile) {
  write_file(t / "srv/big.txt", marker_lines(200000));  // 7.8 MB
  FerryServer server(t / "srv");
  TamperingRelay relay(server.port(), 3 << 20);
  auto r = ferry({"cp", fmt::format("ferry://127.0.0.1:{}/big.txt", relay.port()), t / "dl/",
                  "--reconnects", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(t / "dl/big.txt"));
}

}  // namespace
}  // namespace e2e
