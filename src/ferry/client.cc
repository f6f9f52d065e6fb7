#include "ferry/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/channel.h"
#include "ferry/connection.h"
#include "ferry/counters.h"
#include "ferry/destination.h"
#include "ferry/handshake.h"
#include "ferry/monitor.h"
#include "ferry/peer_path.h"
#include "ferry/progress.h"
#include "ferry/receiver.h"
#include "ferry/remote_spec.h"
#include "ferry/requested_tree.h"
#include "ferry/sender.h"
#include "ferry/ssh_session.h"
#include "ferry/sync_messages.h"
#include "ferry/tree_walk.h"
#include "net/socket.h"

namespace ferry {
namespace sys = base::sys;
namespace {
using Clock = std::chrono::steady_clock;

base::Result<std::unique_ptr<Channel>> open_session(const net::HostPort& server,
                                                    const CopyOptions& o,
                                                    const Security& security) {
  auto fd = TRY(net::connect_tcp(server, std::chrono::milliseconds(10000), o.sndbuf, o.rcvbuf));
  (void)net::set_nodelay(fd.get(), true);
  auto ch = TRY(open_client_channel(std::move(fd), server.to_string(), o.timeout, security));
  TRY(client_handshake(*ch, o.token));
  return ch;
}

// The parent directory and name a local source is read from.
base::Result<WalkRoot> local_root(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  WalkRoot r;
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    // A directory named by "." or "/": send it under its real name.
    r.parent = TRY(sys::open(path, O_RDONLY | O_DIRECTORY));
    char buf[4096];
    std::string real = realpath(path.c_str(), buf) ? buf : "root";
    size_t s = real.rfind('/');
    r.name = ".";
    r.send_as = s == std::string::npos || s + 1 == real.size() ? "root" : real.substr(s + 1);
    return r;
  }
  r.parent = TRY(sys::open(parent, O_RDONLY | O_DIRECTORY));
  r.name = name;
  r.send_as = name;
  (void)TRY(sys::fstatat(r.parent.get(), name, AT_SYMLINK_NOFOLLOW, path));
  return r;
}

// How many streams to use once the primary connection is up.
uint8_t choose_streams(const Channel& ch, const CopyOptions& o) {
  if (o.streams > 0) return static_cast<uint8_t>(std::min<int>(o.streams, kMaxStreams));
  struct tcp_info info {};
  socklen_t len = sizeof info;
  int fd = const_cast<Channel&>(ch).transport().socket_fd();
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 1;
  return info.tcpi_rtt >= 10000 ? 4 : 1;  // tcpi_rtt is in microseconds
}

// Opens the extra streams of a parallel transfer and joins them to `session`,
// all at once: each costs a few round trips (TCP, TLS, HELLO/AUTH, JOIN),
// which on a long path would otherwise add up stream by stream.
base::Result<std::vector<std::unique_ptr<Channel>>> join_streams(const net::HostPort& server,
                                                                 const CopyOptions& o,
                                                                 const Security& security,
                                                                 const Accept& accepted,
                                                                 uint8_t streams) {
  auto join_one = [&](uint8_t index) -> base::Result<std::unique_ptr<Channel>> {
    auto ch = TRY(open_session(server, o, security));
    TRY_STATUS(ch->send(FrameType::kJoin, encode(Join{accepted.session, index})));
    TRY_STATUS(ch->flush());
    TRY_CTX(await_accept(*ch), "join stream");
    return ch;
  };
  std::vector<std::optional<base::Result<std::unique_ptr<Channel>>>> joined(streams);
  {
    std::vector<std::jthread> openers;
    for (uint8_t i = 1; i < streams; ++i)
      openers.emplace_back([&, i] { joined[i].emplace(join_one(i)); });
  }  // every opener has finished here
  std::vector<std::unique_ptr<Channel>> extra;
  for (uint8_t i = 1; i < streams; ++i) {
    if (!*joined[i]) return base::fail(std::move(*joined[i]).error());
    extra.push_back(std::move(**joined[i]));
  }
  return extra;
}

// Sends a request (with a sync's FILTER), waits for ACCEPT, and joins the
// extra streams it asked for.
base::Result<std::vector<std::unique_ptr<Channel>>> request(
    Channel& ch, FrameType type, const std::string& payload, uint32_t flags, uint8_t streams,
    const net::HostPort& server, const CopyOptions& o, const Security& security) {
  TRY_STATUS(ch.send(type, payload));
  if (flags & kFlagFilter)
    TRY_STATUS(ch.send(FrameType::kFilter, encode(FilterMsg{o.sync->filter.wire_rules()})));
  if (flags & kFlagBackup) TRY_STATUS(ch.send(FrameType::kBackup, encode(*o.sync->backup)));
  TRY_STATUS(ch.flush());
  Accept accepted = TRY(await_accept(ch));
  if ((flags & kFlagSync) && accepted.flags != flags)
    return base::fail_msg(fmt::format(
        "{} cannot sync: its ferry is older than this one (0.8); upgrade it", server.to_string()));
  if (flags & kFlagSync) TRY_STATUS(ch.start_packing());
  return join_streams(server, o, security, accepted, streams);
}

// Runs `role` (a Sender or Receiver) under a Monitor that watches every
// stream, writes the trace if asked and feeds the live display; the
// monitor's summary goes into the report.
template <typename Role>
auto run_watched(Role& role, const char* name, Channel& primary,
                 const std::vector<std::unique_ptr<Channel>>& extra, Counters& counters,
                 const CopyOptions& o, ProgressDisplay& progress, TransferReport& report)
    -> decltype(role.run()) {
  if (o.bwlimit > 0) {
    auto limit = std::make_shared<RateLimit>(o.bwlimit);
    primary.set_rate_limit(limit);
    for (const auto& c : extra) c->set_rate_limit(limit);
  }
  Monitor monitor(name, counters, o.interval);
  monitor.watch_streams(primary, pointers(extra));
  if (!o.trace.empty()) TRY_STATUS(monitor.open_trace(o.trace));
  progress.set_monitor(&monitor);
  report.streams = static_cast<uint32_t>(1 + extra.size());
  auto result = run_monitored(role, monitor);
  progress.set_monitor(nullptr);
  report.diagnosis = monitor.summary();
  return result;
}

uint32_t request_flags(const CopyOptions& o, bool retrying, bool contents) {
  if (o.sync) {
    const SyncSpec& s = *o.sync;
    return kFlagRecursive | kFlagSync | (o.fsync ? kFlagFsync : 0) |
           (s.delete_extraneous ? kFlagDelete : 0) | (s.checksum ? kFlagChecksum : 0) |
           (s.dry_run ? kFlagDryRun : 0) | (s.itemize ? kFlagItemize : 0) |
           (contents ? kFlagContents : 0) | (s.filter.empty() ? 0 : kFlagFilter) |
           (s.delete_excluded ? kFlagDeleteExcluded : 0) | (s.hard_links ? kFlagHardLinks : 0) |
           (s.xattrs ? kFlagXattrs : 0) | request_flags_for(s.compress);
  }
  return (o.recursive ? kFlagRecursive : 0) | (o.resume || retrying ? kFlagResume : 0) |
         (o.fsync ? kFlagFsync : 0);
}

// rsync's rule: a source ending in '/' means its contents (one source only).
bool wants_contents(const std::vector<std::string>& sources, const CopyOptions& o) {
  return o.sync && sources.size() == 1 && sources.front().size() > 1 &&
         sources.front().back() == '/';
}

// Itemized lines go to standard output as they come; an upload's say '<'
// (sent), as rsync's do.
std::function<void(const std::string&)> item_printer(const CopyOptions& o, bool upload) {
  if (!o.sync || !o.sync->itemize) return {};
  return [upload](const std::string& line) {
    // The peer's names and link targets: control bytes escaped, so no name
    // can move the cursor or forge a line.
    std::string shown = printable(line, 2 * kMaxPathBytes + 64);
    if (upload && !shown.empty() && shown[0] == '>') shown[0] = '<';
    fmt::print("{}\n", shown);
  };
}

base::Status upload_once(const std::vector<std::string>& sources, const Operand& target,
                         const CopyOptions& o, const Security& security, bool retrying,
                         Counters& counters, TransferReport& report, ProgressDisplay& progress) {
  std::vector<WalkRoot> roots;
  for (const auto& s : sources) {
    if (s == "-") {  // standard input, sent as one file
      WalkRoot r;
      r.stream = base::UniqueFd(TRY(sys::dup(STDIN_FILENO)));
      r.send_as = "stdin";
      roots.push_back(std::move(r));
      continue;
    }
    // A sync of "link/" syncs the contents of the directory it leads to, as
    // rsync does; without the '/', the link itself.
    if (wants_contents(sources, o)) {
      roots.push_back(TRY(local_root(TRY(sys::realpath(s)))));
      continue;
    }
    roots.push_back(TRY(local_root(s)));
  }
  auto ch = TRY(open_session(target.server, o, security));
  report.protection = ch->transport().protection();
  Put put;
  bool contents = wants_contents(sources, o);
  put.flags = request_flags(o, retrying, contents);
  if (o.sync && o.sync->backup) put.flags |= kFlagBackup;  // the server receives: it keeps
  put.streams = choose_streams(*ch, o);
  put.source_count = static_cast<uint16_t>(sources.size());
  put.target = target.path;
  auto extra = TRY(request(*ch, FrameType::kPut, encode(put), put.flags, put.streams, target.server,
                           o, security));
  TreeWalk walk(std::move(roots), o.recursive || o.sync);
  walk.set_lazy_open(o.sync.has_value());
  walk.set_hard_links(o.sync && o.sync->hard_links);
  walk.set_xattrs(o.sync && o.sync->xattrs, geteuid() == 0);
  if (o.sync && !o.sync->filter.empty()) walk.set_filter(&o.sync->filter, contents);
  Sender sender(*ch, walk, counters, pointers(extra));
  if (o.sync)
    sender.set_sync(SendSync{o.sync->checksum, o.sync->compress, o.sync->xattrs,
                             item_printer(o, /*upload=*/true)});
  SendOutcome out = TRY(run_watched(sender, "sender", *ch, extra, counters, o, progress, report));
  report.files = out.receiver.files;
  report.errors = std::move(out.errors);
  if (out.receiver.failed > 0) {
    report.errors.push_back(
        fmt::format("{} reports: {}", target.server.to_string(), out.receiver.first_error));
    if (out.receiver.failed > 1)
      report.errors.push_back(fmt::format("... and {} more errors at the server (see its log)",
                                          out.receiver.failed - 1));
  }
  return {};
}

// `streamed` is set when the destination is a stream (standard output, a
// device, a FIFO): what went into it cannot be taken back for a resume.
base::Status download_once(const std::vector<Operand>& sources, const std::string& target,
                           const CopyOptions& o, const Security& security, bool retrying,
                           Counters& counters, TransferReport& report, ProgressDisplay& progress,
                           bool& streamed) {
  Destination dest;
  if (target == "-") {
    if (sources.size() != 1)
      return base::fail_msg("only one file can be written to standard output");
    dest = Destination::standard_output();
  } else if (o.sync) {
    dest = TRY(resolve_sync_destination(
        AT_FDCWD, target, /*confined=*/false, o.sync->dry_run,
        sources.size() == 1 && !wants_contents({sources.front().path}, o)));
  } else {
    dest = TRY(resolve_destination(AT_FDCWD, target, sources.size(), /*confined=*/false));
  }
  streamed = dest.stream_fd >= 0;
  auto ch = TRY(open_session(sources.front().server, o, security));
  report.protection = ch->transport().protection();
  Get get;
  for (const auto& s : sources) get.sources.push_back(s.path);
  bool contents = wants_contents(get.sources, o);
  get.flags = request_flags(o, retrying, contents);
  get.streams = dest.stream_fd >= 0 ? 1 : choose_streams(*ch, o);  // a stream needs order
  auto extra = TRY(request(*ch, FrameType::kGet, encode(get), get.flags, get.streams,
                           sources.front().server, o, security));
  ReceiveOptions ro{o.resume || retrying, o.fsync, /*keep_owners=*/true, {}, {}};
  if (o.sync) {
    SyncReceive sr;
    sr.delete_extraneous = o.sync->delete_extraneous;
    sr.checksum = o.sync->checksum;
    sr.hard_links = o.sync->hard_links;
    sr.xattrs = o.sync->xattrs;
    sr.dry_run = o.sync->dry_run;
    sr.contents = contents;
    sr.compress = o.sync->compress != CompressMode::kOff;
    sr.filter = std::make_shared<sync::FilterRules>(o.sync->filter);
    if (o.sync->backup && !o.sync->dry_run) {
      const BackupMsg& b = *o.sync->backup;
      if (b.dir.empty()) {
        sr.backups = std::make_shared<Backups>(Backups::beside(b.suffix));
      } else {
        auto dir = TRY(open_backup_dir(dest.dir.get(), b.dir, /*beneath=*/false));
        sr.backups =
            std::make_shared<Backups>(TRY(Backups::into(std::move(dir), dest.dir.get(), b.suffix)));
      }
    }
    sr.item = item_printer(o, /*upload=*/false);
    ro.sync = std::move(sr);
  }
  std::vector<std::string> shown;
  shown.reserve(sources.size());
  for (const auto& s : sources)
    shown.push_back(
        fmt::format("{}:{}", s.over_ssh ? s.ssh_destination : s.server.to_string(), s.path));
  ro.requested = TRY(RequestedTree::from_request(get.sources, shown, o.recursive || o.sync));
  Receiver receiver(*ch, std::move(dest), ro, counters, pointers(extra));
  ReceiveOutcome out =
      TRY(run_watched(receiver, "receiver", *ch, extra, counters, o, progress, report));
  report.files = out.entries;
  report.errors = std::move(out.errors);
  return {};
}

bool connection_lost(const base::Error& e) {
  return e.code() == ECONNRESET || e.code() == EPIPE || e.code() == ETIMEDOUT ||
         e.code() == ECONNREFUSED || e.code() == ECONNABORTED;
}
}  // namespace

base::Result<TransferReport> copy(const std::vector<std::string>& source_args,
                                  const std::string& target_arg, const CopyOptions& o) {
  std::vector<Operand> sources;
  sources.reserve(source_args.size());
  for (const auto& s : source_args) sources.push_back(TRY(parse_operand(s, kDefaultPort)));
  Operand target = TRY(parse_operand(target_arg, kDefaultPort));
  bool upload = target.remote;
  for (const auto& s : sources) {
    if (s.remote && upload)
      return base::fail_msg(
          "copying from one server to another is not supported; copy via a local directory");
    if (!s.remote && !upload)
      return base::fail_msg(fmt::format(
          "'{}' is local and so is the target; one side must be HOST:PATH or ferry://", s.path));
    const Operand& first = sources.front();
    if (s.remote && (s.server.host != first.server.host || s.server.port != first.server.port ||
                     s.ssh_destination != first.ssh_destination))
      return base::fail_msg("all remote sources must be on the same server");
  }
  if (sources.size() > 0xffff) return base::fail_msg("too many sources");
  if (o.sync) {
    if (target_arg == "-" ||
        std::find(source_args.begin(), source_args.end(), "-") != source_args.end())
      return base::fail_msg("sync works on files and directories, not standard input or output");
    if (source_args.size() > 1)
      for (const auto& s : source_args)
        if (s.size() > 1 && s.back() == '/')
          return base::fail_msg(fmt::format(
              "{}: a trailing '/' (sync the directory's contents) needs a single source", s));
  }
  const Operand& remote = upload ? target : sources.front();
  if (remote.over_ssh && o.plaintext)
    return base::fail_msg("--plaintext is for ferry:// servers; over ssh ferry always uses TLS");

  TransferReport report;
  report.direction = upload ? "upload" : "download";
  Counters counters;
  ProgressDisplay progress(counters, o.progress);
  progress.start();
  auto started = Clock::now();
  base::Status st;
  bool streamed = false;
  for (int attempt = 0;; ++attempt) {
    // Over ssh, each attempt starts a one-transfer server of its own.
    std::unique_ptr<SshSession> ssh;
    CopyOptions with_key = o;
    if (remote.over_ssh) {
      auto session = SshSession::start(remote.ssh_destination, remote.server.host, o.ssh);
      if (!session) {
        st = base::fail(std::move(session).error());
        break;
      }
      ssh = std::move(*session);
      with_key.token = ssh->endpoint().token;
      for (auto* op : {&target, &sources.front()})
        if (op->over_ssh) op->server = ssh->endpoint().server;
      for (auto& s : sources) s.server = sources.front().server;
    }
    auto security = Security::make(tls::Role::kClient, o.plaintext, with_key.token);
    if (!security) {
      st = base::fail(std::move(security).error());
      break;
    }
    std::vector<std::string> local_paths;
    local_paths.reserve(sources.size());
    for (const auto& s : sources) local_paths.push_back(s.path);
    st = upload ? upload_once(local_paths, target, with_key, *security, attempt > 0, counters,
                              report, progress)
                : download_once(sources, target_arg, with_key, *security, attempt > 0, counters,
                                report, progress, streamed);
    if (st || !connection_lost(st.error()) || attempt >= o.reconnects) break;
    // A stream cannot be rewound: a second try would write its start again.
    if (streamed && counters.bytes_moved > 0) {
      st = base::fail(std::move(st).error().context(
          fmt::format("not resumed: {} bytes already went into {}", counters.bytes_moved,
                      target_arg == "-" ? "standard output" : target_arg)));
      break;
    }
    base::log::warn("{}; reconnecting to resume ({} of {})", st.error().message(), attempt + 1,
                    o.reconnects);
    std::this_thread::sleep_for(std::chrono::milliseconds(500 * (attempt + 1)));
  }
  progress.stop();
  if (!st) return base::fail(std::move(st).error());
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  report.bytes = counters.bytes_moved;
  report.bytes_skipped = counters.bytes_skipped;
  report.files_skipped = counters.files_skipped;
  report.retries = counters.retries;
  if (o.sync) report.compression = name_of(o.sync->compress);
  report.compressed_raw = counters.compressed_raw;
  report.compressed_wire = counters.compressed_wire;
  return report;
}

}  // namespace ferry
