// Helpers for end-to-end tests of the real ferry binary: temporary
// directories, child processes with captured output and a bounded wait, a
// ferry server on a loopback port chosen by the kernel, tree comparison, and
// a scriptable fake peer that speaks the wire protocol (for hostile input).
// Every helper cleans up after itself in its destructor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ferry/channel.h"

#include "tests/support/test_support.h"

namespace e2e {

inline constexpr const char* kToken = "e2e-token-0123456789";

std::string ferry_bin();
std::string gen_tree_bin();

// Runs `ferry ARGS...` to completion with FERRY_TOKEN=token.
ProcResult ferry(std::vector<std::string> args, const std::string& token = kToken);

class FerryServer {
 public:
  // `wrap`: an argv prefix the server runs under (a cgroup, taskset).
  explicit FerryServer(const std::string& dir, std::vector<std::string> extra = {},
                       const std::string& token = kToken, std::vector<std::string> wrap = {});
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const;
  Process& process() { return *proc_; }
  bool alive() { return proc_->running(); }
  std::string log() const { return proc_->err(); }

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
};

// Names (recursively) of everything below `dir`, sorted; "" when empty.
std::string listing(const std::string& dir);
// Builds a tree with every kind of entry ferry handles (see the .cc).
void make_every_kind_tree(const std::string& dir);
// Compares type, permission bits, mtime (to the nanosecond, but not for
// directory-less links' atime), content, link targets and holes.
testing::AssertionResult trees_equal(const std::string& a, const std::string& b);

// A fake ferry server for one connection: TLS keyed by kToken (as the real
// server), authenticates the client, reads its request, then runs `script`.
class FakeServer {
 public:
  using Script = std::function<void(ferry::Channel&)>;
  // `plaintext`: no TLS, for clients started with --plaintext.
  explicit FakeServer(Script script, bool plaintext = false);
  ~FakeServer();
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const;

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A client connection to a server, through TLS keyed by `token` (no ferry
// handshake yet).
// The bytes of one DATA frame as they go on the wire (header, data prefix
// with the XXH3 of `data`, then `data`), for a peer that sends it in pieces.
std::string raw_data_frame(uint32_t file_id, uint64_t offset, const std::string& data);

std::unique_ptr<ferry::Channel> connect_raw(uint16_t port, const std::string& token = kToken);
// The same without TLS: for servers started with --plaintext, and for what a
// TLS server says to a plaintext or old client.
std::unique_ptr<ferry::Channel> connect_plaintext(uint16_t port);
// Connects and authenticates with kToken.
std::unique_ptr<ferry::Channel> connect_authenticated(uint16_t port);

}  // namespace e2e
