#include "ferry/ssh_session.h"

#include <poll.h>

#include <charconv>

#include <fmt/format.h>

#include "base/sys.h"
#include "ferry/peer_path.h"

namespace ferry {
namespace sys = base::sys;
using Clock = std::chrono::steady_clock;

base::Result<std::vector<std::string>> split_command(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) return base::fail_msg(fmt::format("unmatched {} in '{}'", quote, line));
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return base::fail_msg("empty remote shell command");
  return words;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

base::Result<SshEndpoint> parse_ready_line(std::string_view line, const std::string& host) {
  std::vector<std::string_view> f;
  for (size_t at = 0; at <= line.size();) {
    size_t sp = line.find(' ', at);
    if (sp == std::string_view::npos) sp = line.size();
    if (sp > at) f.push_back(line.substr(at, sp - at));
    at = sp + 1;
  }
  auto bad = [&](std::string_view why) {
    return base::fail_msg(
        fmt::format("the remote ferry's ready line '{}' is not usable: {}", printable(line), why));
  };
  if (f.size() < 4 || f.size() > 5 || f[0] != kSshReadyWord) return bad("wrong shape");
  if (f[1] != std::to_string(kSshBootstrapVersion))
    return base::fail_msg(fmt::format(
        "the remote ferry speaks ssh bootstrap version {}, this one {}: install the same ferry "
        "release on both hosts",
        printable(f[1]), kSshBootstrapVersion));
  unsigned port = 0;
  auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), port);
  if (ec != std::errc() || end != f[2].data() + f[2].size() || port == 0 || port > 65535)
    return bad("no port");
  if (f[3].size() != 32 || f[3].find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return bad("no token");
  SshEndpoint e;
  e.server = {host, static_cast<uint16_t>(port)};
  e.token = std::string(f[3]);
  // An ssh alias does not resolve here: then the address the ssh connection reached.
  if (f.size() == 5 && !net::resolve(e.server, false)) {
    auto addr = net::parse_host_port(f[4], static_cast<uint16_t>(port));
    if (!addr) return bad("no address");
    e.server.host = addr->host;
  }
  return e;
}

base::Result<std::unique_ptr<SshSession>> SshSession::start(const std::string& destination,
                                                            const std::string& host,
                                                            const SshOptions& options) {
  // A destination that ssh could read as an option (-oProxyCommand=...).
  if (destination.empty() || destination.front() == '-')
    return base::fail_msg(fmt::format("'{}' is not a host to ssh to", printable(destination)));
  std::vector<std::string> argv = TRY(split_command(options.rsh));
  argv.insert(argv.end(), {"--", destination,
                           fmt::format("{} serve --ssh", shell_quote(options.remote_ferry))});
  auto in = TRY(sys::pipe());
  auto out = TRY(sys::pipe());
  auto child = TRY_CTX(base::ChildProcess::spawn(argv, in.read.get(), out.write.get()), "ssh");
  std::unique_ptr<SshSession> s(
      new SshSession(std::move(child), std::move(in.write), std::move(out.read)));
  // ssh holds the only copies of its ends, so its exit is an end of file here.
  in.read = base::UniqueFd();
  out.write = base::UniqueFd();
  TRY_STATUS(s->read_ready_line(destination, host, options.timeout));
  return s;
}

base::Status SshSession::read_ready_line(const std::string& destination, const std::string& host,
                                         std::chrono::milliseconds timeout) {
  // Lines a login shell prints before ferry starts are skipped, up to a limit.
  constexpr size_t kMaxNoise = size_t{64} << 10;
  std::string text;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    size_t nl;
    while ((nl = text.find('\n')) != std::string::npos) {
      std::string line = text.substr(0, nl);
      text.erase(0, nl + 1);
      if (line.rfind(kSshReadyWord, 0) == 0) {
        endpoint_ = TRY(parse_ready_line(line, host));
        return {};
      }
    }
    if (text.size() > kMaxNoise)
      return base::fail_msg(fmt::format("ssh {}: no ferry ready line in the first {} bytes",
                                        printable(destination), kMaxNoise));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      return base::fail_msg(fmt::format("ssh {}: the remote ferry did not start within {}s",
                                        printable(destination), timeout.count() / 1000));
    short ready = TRY(sys::poll_one(from_remote_.get(), POLLIN, static_cast<int>(left.count())));
    if (ready == 0) continue;
    char buf[4096];
    size_t n = TRY(sys::read(from_remote_.get(), buf, sizeof buf, "ssh"));
    if (n == 0) break;
    text.append(buf, n);
  }
  int code = TRY(ssh_.wait());
  if (code == 127)
    return base::fail_msg(
        fmt::format("ssh {}: ferry is not installed there, or not in PATH (see --remote-ferry)",
                    printable(destination)));
  if (code == 255)
    return base::fail_msg(fmt::format("ssh {}: could not log in (ssh exited with status 255)",
                                      printable(destination)));
  return base::fail_msg(fmt::format(
      "ssh {}: the remote ferry exited with status {} before it was ready (a ferry older than "
      "0.7 has no 'serve --ssh')",
      printable(destination), code));
}

SshSession::~SshSession() {
  to_remote_ = base::UniqueFd();  // EOF: the remote server stops waiting
  // Reaped the moment it exits; still running after 5 s: ChildProcess ends it.
  if (ssh_.pid() >= 0) (void)ssh_.wait_for(std::chrono::seconds(5));
}

}  // namespace ferry
