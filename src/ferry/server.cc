#include "ferry/server.h"

#include <linux/openat2.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/sys.h"
#include "ferry/channel.h"
#include "ferry/counters.h"
#include "ferry/destination.h"
#include "ferry/handshake.h"
#include "ferry/monitor.h"
#include "ferry/peer_path.h"
#include "ferry/receiver.h"
#include "ferry/sender.h"
#include "ferry/sync/filter_rules.h"
#include "ferry/sync_messages.h"
#include "ferry/tree_walk.h"
#include "net/socket.h"

namespace ferry {
namespace sys = base::sys;
namespace {
// One authenticated connection's place in Server::active_, for its lifetime.
class ClientSlot {
 public:
  explicit ClientSlot(std::atomic<size_t>& n) : n_(n), count_(++n) {}
  ~ClientSlot() { --n_; }
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;
  size_t count() const { return count_; }  // including this one

 private:
  std::atomic<size_t>& n_;
  size_t count_;
};
}  // namespace

Server::Server(ServeOptions options, Security security, base::UniqueFd root,
               base::UniqueFd listener, net::SocketAddress address)
    : options_(std::move(options)),
      security_(std::move(security)),
      root_(std::move(root)),
      listener_(std::move(listener)),
      address_(address),
      gate_(kMaxHandshakes, kHandshakeDeadline) {}

base::Result<std::unique_ptr<Server>> Server::open(ServeOptions options) {
  auto root = TRY_CTX(sys::open(options.dir, O_PATH | O_DIRECTORY), "serve");
  Security security = TRY(Security::make(tls::Role::kServer, options.plaintext, options.token));
  auto listener = TRY_CTX(net::listen_tcp(options.listen), "serve");
  // On the listener, so accepted sockets have the sizes from their first
  // segment on (the window scale is fixed in the handshake).
  TRY_STATUS(net::set_buffer_sizes(listener.get(), options.sndbuf, options.rcvbuf));
  auto addr = TRY(net::local_address(listener.get()));
  auto server = std::unique_ptr<Server>(new Server(std::move(options), std::move(security),
                                                   std::move(root), std::move(listener), addr));
  server->ended_ = TRY(sys::pipe("server wake-up"));
  return server;
}

base::Status Server::run() {
  // Handshakes past their deadline are cut off once a second.
  std::thread([this] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      gate_.expire();
    }
  }).detach();
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    if (int state = finished_.load(); state != 0)
      return state == 1 ? base::Status{} : base::fail_msg("the transfer failed");
    if (options_.once && requests_.load() == 0 &&
        std::chrono::steady_clock::now() - started > options_.first_request_deadline)
      return base::fail_msg("no client came to this one-transfer server");
    // A client, the transfer's end, or the end of the ssh session that
    // started this server (its end is ours); at least every 200 ms for a
    // one-transfer server, to keep its deadline.
    struct pollfd fds[3] = {{listener_.get(), POLLIN, 0},
                            {ended_.read.get(), POLLIN, 0},
                            {options_.watch_fd, POLLIN, 0}};
    if (TRY(sys::poll(fds, options_.once ? 200 : -1)) == 0) continue;
    if (fds[2].revents != 0) {
      char byte;
      if (TRY(sys::read(options_.watch_fd, &byte, 1)) == 0)
        return base::fail_msg("the session that started this server has ended");
    }
    if (fds[0].revents == 0) continue;
    auto conn = net::accept(listener_.get());
    if (!conn) {
      base::log::warn("{}", conn.error().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // EMFILE and friends
      continue;
    }
    std::string peer = conn->peer.to_string();
    auto ticket = gate_.admit(conn->fd.get());
    std::thread([this, fd = std::move(conn->fd), peer, ticket = std::move(ticket)]() mutable {
      serve_connection(std::move(fd), peer, std::move(ticket));
    }).detach();
  }
}

namespace {
// A path from the client's request: beneath the served directory when
// confined, else (a server started over ssh) as the user would name it.
base::Result<std::string> request_path(const std::string& raw, bool confined) {
  if (confined) return normalize_request_path(raw);
  if (raw.size() > kMaxPathBytes || raw.find('\0') != std::string::npos)
    return base::fail_msg(fmt::format("'{}' is not a usable path", printable(raw)));
  return raw.empty() ? std::string(".") : raw;
}

// Roots for a GET: each source opened from the served directory.
base::Result<std::vector<WalkRoot>> source_roots(int root, const std::vector<std::string>& sources,
                                                 bool confined) {
  std::vector<WalkRoot> roots;
  uint64_t resolve = confined ? RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS : 0;
  for (const std::string& raw : sources) {
    std::string path = TRY(request_path(raw, confined));
    SourcePlace place = source_place(path);
    WalkRoot r;
    r.parent =
        TRY(sys::openat2(root, place.parent, O_RDONLY | O_DIRECTORY, 0, resolve, printable(raw)));
    r.name = place.name;
    r.send_as = announced_name(path);
    roots.push_back(std::move(r));
  }
  return roots;
}

// After an ERROR, our close would answer a client still sending with an
// RST, and an RST can discard the ERROR before the client reads it (it then
// reports a reset and reconnects instead). So: no more writes, and what the
// client still sends is read and dropped until it closes, as it does on
// reading the ERROR, or for 2 s at most.
void close_after_error(int sock) {
  (void)base::sys::shutdown(sock, SHUT_WR);
  // A read may have left a low-water mark (transport.h): every byte counts
  // here, and none is waited for inside the kernel.
  (void)net::set_receive_low_water(sock, 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::vector<char> sink(size_t{64} * 1024);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return;
    auto ready = base::sys::poll_one(sock, POLLIN, static_cast<int>(left));
    if (!ready || *ready == 0) return;
    auto n = base::sys::recv(sock, sink.data(), sink.size(), MSG_DONTWAIT);
    if (!n || *n == 0) return;
  }
}

// In a one-shot server, marks its one transfer over, as it ends.
class TransferEnd {
 public:
  // `wake`: written to once the state is set, so run() returns at once.
  TransferEnd(bool once, std::atomic<int>& state, int wake)
      : once_(once), state_(state), wake_(wake) {}
  ~TransferEnd() {
    if (!once_) return;
    // The byte first: once the state is set, run() may return and the
    // server (the pipe with it) go. Until then run() finds the pipe ready
    // and the state unset, and looks again.
    char byte = 1;
    (void)sys::write_all(wake_, &byte, 1, "server wake-up");
    state_ = ok_ ? 1 : 2;
  }
  TransferEnd(const TransferEnd&) = delete;
  TransferEnd& operator=(const TransferEnd&) = delete;
  void succeeded() { ok_ = true; }

 private:
  bool once_;
  std::atomic<int>& state_;
  int wake_;
  bool ok_ = false;
};
}  // namespace

base::Result<std::shared_ptr<Backups>> Server::backups_for(const BackupMsg& b,
                                                           const Destination& dest,
                                                           const std::string& target) const {
  if (b.dir.empty()) return std::make_shared<Backups>(Backups::beside(b.suffix));
  base::UniqueFd dir;
  if (!options_.confined) {  // started over ssh: the user's own account
    dir = TRY(open_backup_dir(dest.dir.get(), b.dir, /*beneath=*/false));
  } else {
    // Relative to the directory the copy lands in, and inside the served one.
    std::string base = dest.undecided_leaf ? split_parent(target).first : target;
    std::string path = TRY(join_within(base, b.dir));
    dir = TRY(open_backup_dir(root_.get(), path.empty() ? "." : path, /*beneath=*/true));
  }
  return std::make_shared<Backups>(TRY(Backups::into(std::move(dir), dest.dir.get(), b.suffix)));
}

void Server::serve_connection(base::UniqueFd fd, std::string peer, HandshakeGate::Ticket ticket) {
  int sock = fd.get();
  auto opened = open_server_channel(std::move(fd), peer, options_.timeout, security_);
  if (!opened) return base::log::warn("{}: {}", peer, opened.error().message());
  std::unique_ptr<Channel> ch = std::move(*opened);
  auto fail = [&](const base::Error& e, bool tell) {
    base::log::warn("{}: {}", peer, e.message());
    if (!tell) return;
    send_error(*ch, e.message());
    close_after_error(sock);
  };
  auto request = server_handshake(*ch, options_.token, options_.read_only);
  ticket.done();
  if (!request) return fail(request.error(), false);
  // Only authenticated connections count against the clients' limit.
  ClientSlot slot(active_);
  if (slot.count() > options_.max_clients)
    return fail(base::Error::msg(fmt::format("server busy: {} clients connected, the limit is {}",
                                             slot.count() - 1, options_.max_clients)),
                true);
  (void)net::set_nodelay(sock, true);
  if (auto* join = std::get_if<Join>(&*request)) {
    // An extra stream: hand it to the transfer that is waiting for it.
    if (!rendezvous_.expects(*join))
      return fail(base::Error::msg("JOIN names no transfer waiting for that stream"), true);
    if (auto st = ch->send(FrameType::kAccept, encode(Accept{join->session})); !st)
      return fail(st.error(), false);
    if (auto st = ch->flush(); !st) return fail(st.error(), false);
    if (auto st = rendezvous_.offer(*join, std::move(ch)); !st)
      base::log::warn("{}: {}", peer, st.error().message());
    return;
  }
  if (options_.once && requests_.fetch_add(1) > 0)
    return fail(base::Error::msg("this server was started for one transfer, and it has begun"),
                true);
  TransferEnd end(options_.once, finished_, ended_.write.get());
  uint32_t flags = std::visit(
      [](const auto& r) -> uint32_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, Join>) {
          return 0;
        } else {
          return r.flags;
        }
      },
      *request);
  // A sync's filter rules come right after its request.
  std::shared_ptr<sync::FilterRules> filter = std::make_shared<sync::FilterRules>();
  if (flags & kFlagFilter) {
    auto rules = [&]() -> base::Result<sync::FilterRules> {
      Frame f = TRY(ch->recv());
      if (f.type != FrameType::kFilter)
        return base::fail_msg(fmt::format("expected FILTER, got {}", frame_name(f.type)));
      FilterMsg m = TRY(decode_filter(f.payload));
      return sync::FilterRules::from_wire(m.rules);
    }();
    if (!rules) return fail(rules.error(), true);
    *filter = std::move(*rules);
  }
  if (flags & kFlagDeleteExcluded) filter->set_delete_excluded(true);
  // An upload's backup place comes next (a download's receiver is the client).
  std::optional<BackupMsg> backup;
  if (flags & kFlagBackup) {
    auto m = [&]() -> base::Result<BackupMsg> {
      if (!std::holds_alternative<Put>(*request))
        return base::fail_msg("BACKUP on a download: the client keeps its own backups");
      Frame f = TRY(ch->recv());
      if (f.type != FrameType::kBackup)
        return base::fail_msg(fmt::format("expected BACKUP, got {}", frame_name(f.type)));
      return decode_backup(f.payload);
    }();
    if (!m) return fail(m.error(), true);
    backup = std::move(*m);
  }
  // Accepts the request and, for a parallel transfer, gathers its streams.
  uint8_t streams = std::visit(
      [](const auto& r) -> uint8_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, Join>) {
          return 1;
        } else {
          return r.streams;
        }
      },
      *request);
  auto accept = [&]() -> base::Result<std::vector<std::unique_ptr<Channel>>> {
    Accept a;
    if (flags & kFlagSync) a.flags = flags;  // this server honours them all
    if (streams > 1) a.session = TRY(rendezvous_.open(streams - 1u));
    TRY_STATUS(ch->send(FrameType::kAccept, encode(a)));
    TRY_STATUS(ch->flush());
    if (flags & kFlagSync) TRY_STATUS(ch->start_packing());
    if (streams == 1) return std::vector<std::unique_ptr<Channel>>{};
    return rendezvous_.wait(a.session, std::chrono::milliseconds(10000));
  };
  Counters counters;
  if (auto* put = std::get_if<Put>(&*request)) {
    if (options_.read_only) return fail(base::Error::msg("this server is read-only"), true);
    auto target = request_path(put->target, options_.confined);
    if (!target) return fail(target.error(), true);
    bool sync = (put->flags & kFlagSync) != 0;
    // rsync's rule: one source into a target not ending in '/' may name it.
    bool one_source = put->source_count == 1 && !(put->flags & kFlagContents) &&
                      !put->target.empty() && put->target.back() != '/';
    auto dest = sync ? resolve_sync_destination(root_.get(), *target == "." ? "" : *target,
                                                options_.confined, (put->flags & kFlagDryRun) != 0,
                                                one_source)
                     : resolve_destination(root_.get(), *target == "." ? "" : *target,
                                           put->source_count, options_.confined);
    if (!dest) return fail(dest.error(), true);
    std::shared_ptr<Backups> backups;
    if (backup && !(put->flags & kFlagDryRun)) {
      auto kept = backups_for(*backup, *dest, *target == "." ? "" : *target);
      if (!kept) return fail(kept.error(), true);
      backups = std::move(*kept);
    }
    auto extra = accept();
    if (!extra) return fail(extra.error(), true);
    ReceiveOptions ro{(put->flags & kFlagResume) != 0,
                      options_.fsync || (put->flags & kFlagFsync),
                      options_.keep_owners,
                      {},
                      {}};
    if (sync) {
      SyncReceive sr;
      sr.delete_extraneous = (put->flags & kFlagDelete) != 0;
      sr.checksum = (put->flags & kFlagChecksum) != 0;
      sr.hard_links = (put->flags & kFlagHardLinks) != 0;
      sr.xattrs = (put->flags & kFlagXattrs) != 0;
      sr.dry_run = (put->flags & kFlagDryRun) != 0;
      sr.contents = (put->flags & kFlagContents) != 0;
      sr.compress = (put->flags & kFlagCompress) != 0;
      sr.filter = filter;
      sr.backups = std::move(backups);
      // Itemized lines go back to the client, in order with the transfer.
      if (put->flags & kFlagItemize)
        sr.item = [c = ch.get()](const std::string& line) {
          (void)c->send(FrameType::kItem, encode(ItemMsg{line}));
        };
      ro.sync = std::move(sr);
    }
    Receiver receiver(*ch, std::move(*dest), ro, counters, pointers(*extra));
    Monitor monitor("receiver", counters, std::chrono::milliseconds(200));
    monitor.watch_streams(*ch, pointers(*extra));
    auto out = run_monitored(receiver, monitor);
    if (!out) return fail(out.error(), true);  // best effort: the peer may be gone
    base::log::info("{}: received {} entries, {} bytes", peer, out->entries, out->bytes);
    end.succeeded();
    return;
  }
  const Get& get = std::get<Get>(*request);
  auto roots = source_roots(root_.get(), get.sources, options_.confined);
  if (!roots) return fail(roots.error(), true);
  auto extra = accept();
  if (!extra) return fail(extra.error(), true);
  TreeWalk walk(std::move(*roots), (get.flags & kFlagRecursive) != 0);
  walk.set_lazy_open((get.flags & kFlagSync) != 0);
  walk.set_hard_links((get.flags & kFlagHardLinks) != 0);
  walk.set_xattrs((get.flags & kFlagXattrs) != 0, geteuid() == 0);
  if ((get.flags & kFlagSync) && !filter->empty())
    walk.set_filter(filter.get(), (get.flags & kFlagContents) != 0);
  Sender sender(*ch, walk, counters, pointers(*extra));
  if (get.flags & kFlagSync)
    sender.set_sync(SendSync{(get.flags & kFlagChecksum) != 0,
                             compress_mode_of(get.flags),
                             (get.flags & kFlagXattrs) != 0,
                             {}});
  Monitor monitor("sender", counters, std::chrono::milliseconds(200));
  monitor.watch_streams(*ch, pointers(*extra));
  auto out = run_monitored(sender, monitor);
  if (!out) return fail(out.error(), true);  // best effort: the peer may be gone
  base::log::info("{}: sent {} entries, {} bytes", peer, out->receiver.files, out->receiver.bytes);
  end.succeeded();
}

}  // namespace ferry
