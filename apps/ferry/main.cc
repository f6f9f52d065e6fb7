// ferry: fast, verified file and tree transfer over TCP. Parses arguments
// and dispatches to the ferry library; maps errors to exit codes:
//   0 success, 1 the transfer failed or some entries could not be copied,
//   2 bad usage.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/units.h"
#include "ferry/auth.h"
#include "ferry/client.h"
#include "ferry/frame.h"
#include "ferry/report_page.h"
#include "ferry/server.h"
#include "ferry/ssh_session.h"
#include "filter_args.h"

namespace {

std::string token_from(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("FERRY_TOKEN");
  return env ? env : "";
}

// `ferry serve --ssh`: the remote half of `ferry cp` over ssh (ssh_session.h).
// Standard output carries only the ready line; logs go to standard error.
int run_serve_for_ssh(ferry::ServeOptions o) {
  // What goes wrong in the transfer, the client reports; ssh would show a
  // second copy of it from here.
  base::log::set_level(base::log::Level::kError);
  auto token = ferry::auth::make_token();
  if (!token) {
    base::log::error("{}", token.error().message());
    return 1;
  }
  o.token = *token;
  o.dir = ".";
  o.listen = {"", 0};
  o.confined = false;
  o.once = true;
  o.watch_fd = STDIN_FILENO;
  auto server = ferry::Server::open(o);
  if (!server) {
    base::log::error("{}", server.error().message());
    return 1;
  }
  // $SSH_CONNECTION: "client_ip client_port server_ip server_port".
  std::string address;
  if (const char* c = std::getenv("SSH_CONNECTION")) {
    std::istringstream words(c);
    std::string skip;
    words >> skip >> skip >> address;
    if (address.find(':') != std::string::npos) address = "[" + address + "]";
  }
  std::string where = (*server)->address().to_string();
  fmt::print("{} {} {} {}{}{}\n", ferry::kSshReadyWord, ferry::kSshBootstrapVersion,
             where.substr(where.rfind(':') + 1), o.token, address.empty() ? "" : " ", address);
  std::fflush(stdout);
  return (*server)->run() ? 0 : 1;
}

int run_serve(ferry::ServeOptions o, const std::string& listen_text) {
  auto hp = net::parse_host_port(listen_text, ferry::ServeOptions{}.listen.port);
  if (!hp) {
    base::log::error("--listen: {}", hp.error().message());
    return 2;
  }
  o.listen = *hp;
  bool generated = false;
  if (o.token.empty()) {
    auto t = ferry::auth::make_token();
    if (!t) {
      base::log::error("{}", t.error().message());
      return 1;
    }
    o.token = *t;
    generated = true;
  }
  auto server = ferry::Server::open(o);
  if (!server) {
    base::log::error("{}", server.error().message());
    return 1;
  }
  std::string where = (*server)->address().to_string();
  char buf[4096];
  std::string dir = realpath(o.dir.c_str(), buf) ? buf : o.dir;
  fmt::print("ferry: serving {} on {} ({}, {})\n", dir, where,
             o.read_only ? "read-only" : "read-write",
             o.plaintext ? "plaintext: NOT encrypted" : "TLS 1.3");
  if (generated) {
    // A wildcard address is no place to connect to: name this host instead.
    std::string reach = where;
    std::string port = where.substr(where.rfind(':') + 1);
    if (where.rfind("0.0.0.0:", 0) == 0 || where.rfind("[::]:", 0) == 0) {
      char host[256] = {};
      reach = fmt::format("{}:{}", ::gethostname(host, sizeof host - 1) == 0 ? host : "HOST", port);
    }
    fmt::print("ferry: token {}\n", o.token);
    fmt::print("ferry: try: FERRY_TOKEN={} ferry cp{} FILE ferry://{}/\n", o.token,
               o.plaintext ? " --plaintext" : "", reach);
  }
  std::fflush(stdout);
  auto st = (*server)->run();
  if (!st) {
    base::log::error("{}", st.error().message());
    return 1;
  }
  return 0;
}

int run_cp(std::vector<std::string> args, const ferry::CopyOptions& o, bool json) {
  if (args.size() < 2) {
    base::log::error("cp and sync need at least one source and a target");
    return 2;
  }
  // A ferry:// server needs the token; over ssh a fresh one is made.
  bool token_server = false;
  for (const auto& a : args) token_server = token_server || a.rfind("ferry://", 0) == 0;
  if (token_server && o.token.empty()) {
    base::log::error("no token: set FERRY_TOKEN or pass --token (the server prints its token)");
    return 2;
  }
  std::string target = args.back();
  args.pop_back();
  auto report = ferry::copy(args, target, o);
  if (!report) {
    base::log::error("{}", report.error().message());
    if (json)
      fmt::print("{{\"ok\":false,\"error\":{}}}\n",
                 nlohmann::json(report.error().message())
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return 1;
  }
  for (const auto& e : report->errors) base::log::error("{}", e);
  if (json) {
    // With the file itself on standard output, the summary goes to stderr.
    fmt::print(target == "-" ? stderr : stdout, "{}\n", report->json());
  } else if (o.progress && isatty(STDERR_FILENO)) {
    base::log::info("{}", report->human());
  }
  return report->ok() ? 0 : 1;
}

int run_report(const std::string& trace, const std::string& out) {
  // A trace may come from anyone; a day of samples is a few hundred MiB.
  auto text = base::read_text_capped(trace, size_t{256} << 20);
  if (!text) {
    base::log::error("{}", text.error().message());
    return 1;
  }
  auto page = ferry::render_report_page(*text, trace);
  if (!page) {
    base::log::error("{}", page.error().message());
    return 1;
  }
  // Never a partial page under the final name: write aside, then rename.
  std::string tmp = out + ".ferry-part";
  const std::string& html = *page;
  base::Status written = [&]() -> base::Status {
    base::UniqueFd f = TRY(base::sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666));
    TRY_STATUS(base::sys::write_all(f.get(), html.data(), html.size(), tmp));
    return base::sys::close(std::move(f), tmp);
  }();
  if (!written) {
    base::log::error("write {}: {}", tmp, std::strerror(written.error().code()));
    std::remove(tmp.c_str());
    return 1;
  }
  if (auto renamed = base::sys::renameat(AT_FDCWD, tmp, AT_FDCWD, out); !renamed) {
    base::log::error("rename {} to {}: {}", tmp, out, std::strerror(renamed.error().code()));
    std::remove(tmp.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

namespace {

int ferry_main(int argc, char** argv) {
  base::log::set_program("ferry");
  signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error value, not a signal

  CLI::App app{"ferry: fast, verified file and tree transfer over TCP"};
  app.set_version_flag("--version", fmt::format("ferry {} (wire protocol {})", SHIPYARD_VERSION,
                                                ferry::kProtocolVersion));
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log more");

  ferry::ServeOptions serve;
  std::string listen_text = ":7077";
  std::string serve_token;
  int serve_timeout = 120;
  auto* sv = app.add_subcommand("serve", "Serve a directory to ferry clients");
  sv->add_option("dir", serve.dir, "Directory to serve (default: the current one)");
  sv->add_option("--listen", listen_text,
                 "ADDR:PORT to listen on (default :7077; port 0 picks one)");
  sv->add_option("--token", serve_token,
                 "Shared secret (default: $FERRY_TOKEN, else a random one)");
  bool serve_ssh = false;
  sv->add_flag("--ssh", serve_ssh,
               "Serve one transfer for a `ferry cp` that started this over ssh (prints its port "
               "and a fresh key on standard output)");
  sv->add_flag("--plaintext", serve.plaintext,
               "No encryption: for benchmarks on a network you own (clients need it too)");
  sv->add_flag("--read-only", serve.read_only, "Refuse uploads");
  sv->add_flag("--fsync", serve.fsync, "fsync every received file before it gets its final name");
  sv->add_flag("--keep-owners", serve.keep_owners,
               "As root, give uploads the owners and setuid/setgid bits their sender names "
               "(trusts every token holder with root's powers)");
  std::string serve_sndbuf, serve_rcvbuf;
  sv->add_option("--sndbuf", serve_sndbuf,
                 "Fixed socket send buffer (e.g. 256K); default: autotuned");
  sv->add_option("--rcvbuf", serve_rcvbuf,
                 "Fixed socket receive buffer (e.g. 64K); default: autotuned");
  sv->add_option("--timeout", serve_timeout, "Seconds a peer may stall before it is dropped")
      ->check(CLI::Range(1, 86400));

  ferry::CopyOptions cp;
  std::vector<std::string> cp_args;
  std::string cp_token;
  bool json = false, quiet = false;
  int cp_timeout = 120;
  std::string cp_sndbuf, cp_rcvbuf;
  int interval_ms = 200;
  std::string bwlimit_text;
  if (const char* rsh = std::getenv("FERRY_RSH")) cp.ssh.rsh = rsh;
  // What cp and sync share: the connection, the diagnosis and the summary.
  auto add_transfer_options = [&](CLI::App* c) {
    c->add_option("paths", cp_args,
                  "SRC... DST; a remote side is [USER@]HOST:PATH (over ssh) or "
                  "ferry://HOST[:PORT]/PATH (a ferry server and its token)")
        ->required();
    c->add_flag("--fsync", cp.fsync, "fsync every received file before it gets its final name");
    c->add_option("--token", cp_token, "Shared secret (default: $FERRY_TOKEN)");
    c->add_flag("--plaintext", cp.plaintext,
                "No encryption: for benchmarks on a network you own (the server needs it too)");
    c->add_option("-e,--rsh", cp.ssh.rsh,
                  "Remote shell for HOST:PATH, with its options (default: $FERRY_RSH, else ssh)");
    c->add_option("--remote-ferry", cp.ssh.remote_ferry,
                  "The ferry program on the remote host (default: ferry, from its PATH)");
    c->add_option("--timeout", cp_timeout, "Seconds a peer may stall before giving up")
        ->check(CLI::Range(1, 86400));
    c->add_option("--reconnects", cp.reconnects,
                  "Reconnect and resume this many times if the connection drops")
        ->check(CLI::Range(0, 100));
    c->add_option("-P,--parallel", cp.streams,
                  "TCP streams (1-16); default: 4 when the round trip is 10 ms or more, else 1")
        ->check(CLI::Range(1, 16));
    c->add_option("--sndbuf", cp_sndbuf,
                  "Fixed socket send buffer (e.g. 256K); default: autotuned");
    c->add_option("--rcvbuf", cp_rcvbuf,
                  "Fixed socket receive buffer (e.g. 64K); default: autotuned");
    c->add_option("--bwlimit", bwlimit_text,
                  "Read and write at most RATE bytes a second (rsync's units: KiB by default; "
                  "suffixes K, M, G; 0 is no limit)");
    c->add_option("--trace", cp.trace,
                  "Write every interval's samples of both ends to FILE (JSON Lines)");
    c->add_option("--interval", interval_ms,
                  "Diagnosis sampling interval in milliseconds (default 200)")
        ->check(CLI::Range(20, 60000));
    c->add_flag("--json", json, "Print a machine-readable summary at the end");
    c->add_flag("-q,--quiet", quiet, "No progress display");
  };
  auto* c = app.add_subcommand("cp", "Copy files to or from a ferry server (scp-like)");
  add_transfer_options(c);
  c->add_flag("-r,--recursive", cp.recursive, "Copy directories and their contents");
  c->add_flag("--resume", cp.resume,
              "Skip files already whole at the target (same size and mtime)");

  ferry::SyncSpec sync;
  auto* sy = app.add_subcommand(
      "sync", "Make a target identical to a source, sending only what changed (rsync-like)");
  add_transfer_options(sy);
  bool archive = false, recursive = false;
  sy->add_flag("-a,--archive", archive,
               "Accepted for rsync's sake: sync always keeps trees, "
               "links, modes and times (owners as root)");
  sy->add_flag("-r,--recursive", recursive, "Accepted for rsync's sake: sync is always recursive");
  sy->add_flag("--delete", sync.delete_extraneous,
               "Delete what the source does not have (not what the filter protects)");
  bool delete_excluded = false;
  sy->add_flag("--delete-excluded", delete_excluded,
               "Delete excluded files on the target too (implies --delete)");
  sy->add_flag("-c,--checksum", sync.checksum,
               "Skip files by content (XXH3), not by size and modification time");
  sy->add_flag("-n,--dry-run", sync.dry_run, "Change nothing; with -i, list what would be done");
  sy->add_flag("-i,--itemize-changes", sync.itemize, "List each change as rsync -i does");
  sy->add_flag("-X,--xattrs", sync.xattrs,
               "Keep extended attributes (user.*; as root trusted.* and security.* too)");
  sy->add_flag("-H,--hard-links", sync.hard_links,
               "Keep hard links: a file's names in the source stay one file in the target");
  bool compress = false, no_compress = false;
  sy->add_flag("-z,--compress", compress,
               "Always compress data on the wire (zstd, chunk by chunk). By default ferry "
               "compresses only while the network is the limit and its CPU has room");
  sy->add_flag("--no-compress", no_compress, "Never compress data on the wire")
      ->excludes(sy->get_option("--compress"));
  bool backup = false;
  std::optional<std::string> backup_dir;
  std::optional<std::string> backup_suffix;
  sy->add_flag("-b,--backup", backup,
               "Keep what is replaced or deleted, beside it as NAME~ (see --suffix, --backup-dir)");
  sy->add_option("--backup-dir", backup_dir,
                 "Keep backups in DIR (relative to the target), at each file's path (implies -b)");
  sy->add_option("--suffix", backup_suffix,
                 "The backup suffix (default ~, or none with --backup-dir)");
  sy->footer(
      "Filter options, in rsync's syntax and order: --exclude PATTERN, --include PATTERN, "
      "--filter RULE (-f), --exclude-from FILE, --include-from FILE, -F (per-directory "
      ".rsync-filter files; -FF also excludes them).");

  std::string report_trace, report_out = "report.html";
  auto* rp = app.add_subcommand("report", "Turn a --trace file into a self-contained HTML page");
  rp->add_option("trace", report_trace, "The trace file (from ferry cp --trace)")->required();
  rp->add_option("-o,--output", report_out, "The page to write (default report.html)");

  // rsync's filter options keep their order: taken out before CLI11 parses.
  std::vector<std::string> args(argv + 1, argv + argc);
  auto command = std::find_if(args.begin(), args.end(),
                              [](const std::string& a) { return a.empty() || a[0] != '-'; });
  if (auto at = command; at != args.end() && *at == "sync") {
    std::vector<std::string> tail(at + 1, args.end());
    if (auto st = filter_args::take_filter_options(tail, sync.filter); !st) {
      base::log::error("{}", st.error().message());
      return 2;
    }
    args.erase(at + 1, args.end());
    args.insert(args.end(), tail.begin(), tail.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    base::log::error("{}", e.what());
    return 2;
  }
  if (verbose) base::log::set_level(base::log::Level::kDebug);
  // Buffer sizes: "" = autotuned; else a size such as 64K, at most 1 GiB.
  auto buffer_size = [](const std::string& text, const char* flag, int* out) {
    if (text.empty()) return true;
    auto v = base::units::parse_size(text);
    if (!v || *v == 0 || *v > (1u << 30)) {
      base::log::error("{}: '{}' is not a size between 1 and 1G", flag, text);
      return false;
    }
    *out = static_cast<int>(*v);
    return true;
  };
  if (!buffer_size(serve_sndbuf, "--sndbuf", &serve.sndbuf) ||
      !buffer_size(serve_rcvbuf, "--rcvbuf", &serve.rcvbuf) ||
      !buffer_size(cp_sndbuf, "--sndbuf", &cp.sndbuf) ||
      !buffer_size(cp_rcvbuf, "--rcvbuf", &cp.rcvbuf))
    return 2;
  cp.interval = std::chrono::milliseconds(interval_ms);
  if (!bwlimit_text.empty()) {
    // rsync's units: a bare number is KiB a second.
    bool bare = bwlimit_text.find_first_not_of("0123456789.") == std::string::npos;
    auto v = base::units::parse_size(bare ? bwlimit_text + "K" : bwlimit_text);
    if (!v || *v > (uint64_t{1} << 50)) {
      base::log::error("--bwlimit: '{}' is not a rate such as 500 (KiB/s), 10M or 1.5G",
                       bwlimit_text);
      return 2;
    }
    if (*v > 0 && *v < 512) {  // as rsync: a few bytes a second is a hang, not a limit
      base::log::error("--bwlimit: '{}' is under 512 bytes a second (0 is no limit)", bwlimit_text);
      return 2;
    }
    cp.bwlimit = *v;
  }

  if (rp->parsed()) return run_report(report_trace, report_out);
  if (sv->parsed()) {
    if (serve_ssh) return run_serve_for_ssh(serve);
    serve.token = token_from(serve_token);
    serve.timeout = std::chrono::seconds(serve_timeout);
    return run_serve(serve, listen_text);
  }
  if (sy->parsed()) {
    if (backup_dir && backup_dir->empty()) {
      base::log::error("--backup-dir: an empty name");
      return 2;
    }
    if (backup || backup_dir) {
      ferry::BackupMsg b;
      b.dir = backup_dir.value_or("");
      b.suffix = backup_suffix.value_or(b.dir.empty() ? "~" : "");
      if (b.suffix.find('/') != std::string::npos || b.suffix.size() > 255) {
        base::log::error("--suffix: '{}' holds a '/' or is over 255 bytes", b.suffix);
        return 2;
      }
      if (b.suffix.empty() && b.dir.empty()) {
        base::log::error("--suffix: an empty suffix without --backup-dir would replace the file");
        return 2;
      }
      sync.backup = std::move(b);
    }
    if (compress) sync.compress = ferry::CompressMode::kOn;
    if (no_compress) sync.compress = ferry::CompressMode::kOff;
    sync.delete_extraneous = sync.delete_extraneous || delete_excluded;
    sync.delete_excluded = delete_excluded;
    sync.filter.set_delete_excluded(delete_excluded);
    cp.sync = std::move(sync);
    cp.recursive = true;
  }
  cp.token = token_from(cp_token);
  cp.timeout = std::chrono::seconds(cp_timeout);
  cp.ssh.timeout = cp.timeout;
  cp.progress = !quiet;  // on a terminal only; --json goes to stdout, the live display to stderr
  return run_cp(cp_args, cp, json);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return ferry_main(argc, argv);
  } catch (const std::exception& e) {  // a bug, but one line and an exit code, never an abort
    base::log::error("internal error: {}", e.what());
  } catch (...) {
    base::log::error("internal error: unknown exception");
  }
  return 1;
}
