// `ferry cp` over ssh, the way rsync and mosh start their remote half. For
// an operand [USER@]HOST:PATH the client runs
//   RSH -- [USER@]HOST 'REMOTE_FERRY' serve --ssh
// (RSH: -e/--rsh, default "ssh"; REMOTE_FERRY: --remote-ferry, default
// "ferry"), which starts a one-transfer ferry server as the user ssh logs in
// as, in their home directory, with paths as that user names them. The
// server listens on a port of its own and prints one line on its standard
// output, carried back by ssh:
//   ferry-ssh 2 PORT TOKEN [ADDRESS]
// TOKEN is fresh and random (32 hex digits); ADDRESS is the server's end of
// the ssh connection, from $SSH_CONNECTION. The client connects to HOST on
// PORT (to ADDRESS when HOST does not resolve here, as with an ssh alias),
// directly, with TLS keyed by TOKEN. ssh carries only that line: the data
// moves at ferry's speed, with ssh's logins, keys and known_hosts. The remote
// server ends with its transfer, or when this session closes its standard
// input (the client is gone).
// Thread-safety: one thread per session.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/child_process.h"
#include "base/error.h"
#include "base/unique_fd.h"
#include "net/address.h"

namespace ferry {

inline constexpr std::string_view kSshReadyWord = "ferry-ssh";
inline constexpr int kSshBootstrapVersion = 2;

struct SshOptions {
  std::string rsh = "ssh";
  std::string remote_ferry = "ferry";
  std::chrono::milliseconds timeout{120000};  // for the login and the remote start
};

// Where the remote ferry waits, and its key.
struct SshEndpoint {
  net::HostPort server;
  std::string token;
};

class SshSession {
 public:
  // `destination` as ssh takes it ([USER@]HOST); `host` is its HOST part.
  static base::Result<std::unique_ptr<SshSession>> start(const std::string& destination,
                                                         const std::string& host,
                                                         const SshOptions& options);
  // Closes the remote's standard input and gives ssh a few seconds to end.
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  const SshEndpoint& endpoint() const { return endpoint_; }

 private:
  SshSession(base::ChildProcess ssh, base::UniqueFd to_remote, base::UniqueFd from_remote)
      : ssh_(std::move(ssh)),
        to_remote_(std::move(to_remote)),
        from_remote_(std::move(from_remote)) {}
  base::Status read_ready_line(const std::string& destination, const std::string& host,
                               std::chrono::milliseconds timeout);

  base::ChildProcess ssh_;
  base::UniqueFd to_remote_;
  base::UniqueFd from_remote_;
  SshEndpoint endpoint_;
};

// Splits a command line such as -e's into words: blanks separate, and single
// or double quotes group (no other shell syntax).
base::Result<std::vector<std::string>> split_command(std::string_view line);
// `s` quoted for a POSIX shell (the remote one that runs ssh's command).
std::string shell_quote(std::string_view s);
// Parses the remote's ready line; `host` is used unless it does not resolve.
base::Result<SshEndpoint> parse_ready_line(std::string_view line, const std::string& host);

}  // namespace ferry
