#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <thread>

#include <string>

#include "ferry/auth.h"
#include "ferry/channel.h"
#include "ferry/codec.h"
#include "ferry/frame.h"
#include "ferry/handshake_gate.h"
#include "ferry/messages.h"
#include "ferry/peer_path.h"
#include "ferry/remote_spec.h"
#include "ferry/ssh_session.h"

namespace ferry {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Messages, EntryRoundTripsAnyNameBytes) {
  Entry e;
  e.id = 7;
  e.kind = EntryKind::kSymlink;
  e.flags = kEntrySparse;
  e.mode = 0751;
  e.mtime_sec = -5;  // before 1970 is valid
  e.mtime_nsec = 999999999;
  e.size = 5ull << 32;
  e.path = std::string("dir/\xff\xfe name", 13);
  e.link_target = "../x";
  auto d = decode_entry(bytes(encode(e)));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->id, 7u);
  EXPECT_EQ(d->kind, EntryKind::kSymlink);
  EXPECT_EQ(d->flags, kEntrySparse);
  EXPECT_EQ(d->mode, 0751u);
  EXPECT_EQ(d->mtime_sec, -5);
  EXPECT_EQ(d->mtime_nsec, 999999999u);
  EXPECT_EQ(d->size, 5ull << 32);
  EXPECT_EQ(d->path, e.path);
  EXPECT_EQ(d->link_target, "../x");
}

TEST(Messages, TruncatedOrTrailingBytesAreRejected) {
  Entry e;
  e.path = "a";
  std::string wire = encode(e);
  for (size_t cut = 0; cut < wire.size(); ++cut)
    EXPECT_FALSE(decode_entry(bytes(wire.substr(0, cut)))) << "cut at " << cut;
  EXPECT_FALSE(decode_entry(bytes(wire + "x")));
}

TEST(Messages, OutOfRangeFieldsAreRejected) {
  Entry e;
  e.path = "a";
  std::string wire = encode(e);
  std::string bad_kind = wire;
  bad_kind[4] = 9;
  EXPECT_FALSE(decode_entry(bytes(bad_kind)));
  Entry big_mode = e;
  big_mode.mode = 0170000;
  EXPECT_FALSE(decode_entry(bytes(encode(big_mode))));
  Entry bad_ns = e;
  bad_ns.mtime_nsec = 1000000000;
  EXPECT_FALSE(decode_entry(bytes(encode(bad_ns))));
}

TEST(Messages, WantCountCannotExceedPayload) {
  Want w{3, WantHow::kBlocks, {1, 2, 3}};
  std::string wire = encode(w);
  wire[8] = 0x7f;  // claim a huge block count
  EXPECT_FALSE(decode_want(bytes(wire)));
  auto ok = decode_want(bytes(encode(w)));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->have, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(Messages, HelloNeedsMagic) {
  Hello h{kProtocolVersion, {}};
  std::string wire = encode(h);
  EXPECT_TRUE(decode_hello(bytes(wire)));
  wire[0] = 'G';
  EXPECT_FALSE(decode_hello(bytes(wire)));
}

TEST(Frame, CapsAreDefinedForEveryType) {
  EXPECT_EQ(max_payload(0x99), 0u);
  EXPECT_EQ(max_payload(static_cast<uint8_t>(FrameType::kData)), kDataPrefixSize + kChunkSize);
  EXPECT_GT(max_payload(static_cast<uint8_t>(FrameType::kEntry)), 2u * 65535);
}

TEST(PeerPath, AcceptsOrdinaryRelativeNames) {
  EXPECT_TRUE(check_entry_path("a"));
  EXPECT_TRUE(check_entry_path("a/b/c.txt"));
  EXPECT_TRUE(check_entry_path(std::string("\xff\x01weird", 7)));
  EXPECT_TRUE(check_entry_path("..a/b.."));
}

TEST(PeerPath, RefusesEscapes) {
  for (const std::string& bad : std::vector<std::string>{
           "", "/etc/passwd", "..", "../x", "a/../../x", "a/..", "a//b", "a/", "./a", "a/./b",
           std::string("a\0b", 3), std::string(300, 'x'), std::string(5000, 'a')}) {
    EXPECT_FALSE(check_entry_path(bad)) << bad;
  }
}

TEST(PeerPath, NormalizesRequestPaths) {
  EXPECT_EQ(*normalize_request_path(""), ".");
  EXPECT_EQ(*normalize_request_path("/"), ".");
  EXPECT_EQ(*normalize_request_path("/a//b/./c/"), "a/b/c");
  EXPECT_FALSE(normalize_request_path("a/../b"));
  EXPECT_FALSE(normalize_request_path(".."));
  EXPECT_FALSE(normalize_request_path(std::string("a\0", 2)));
}

TEST(RemoteSpec, ScpStyleOperandsGoOverSsh) {
  auto a = parse_operand("host:dir/x", 7077);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->remote);
  EXPECT_TRUE(a->over_ssh);
  EXPECT_EQ(a->server.host, "host");
  EXPECT_EQ(a->ssh_destination, "host");
  EXPECT_EQ(a->path, "dir/x");
  auto u = parse_operand("alice@host:/etc/hosts", 7077);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->over_ssh);
  EXPECT_EQ(u->server.host, "host");
  EXPECT_EQ(u->ssh_destination, "alice@host");
  EXPECT_EQ(u->path, "/etc/hosts");
  auto home = parse_operand("alice@host:", 7077);
  ASSERT_TRUE(home);
  EXPECT_EQ(home->path, "");
  auto v6 = parse_operand("bob@[fd00::2]:file", 7077);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->server.host, "fd00::2");
  EXPECT_EQ(v6->ssh_destination, "bob@fd00::2");
  auto b = parse_operand("ferry://10.1.2.3:9000/a/b", 7077);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->remote);
  EXPECT_FALSE(b->over_ssh);
  EXPECT_EQ(b->server.host, "10.1.2.3");
  EXPECT_EQ(b->server.port, 9000);
  EXPECT_EQ(b->path, "a/b");
  auto c = parse_operand("./odd:name", 7077);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->remote);
  auto at_local = parse_operand("dir/a@b:c", 7077);
  ASSERT_TRUE(at_local);
  EXPECT_FALSE(at_local->remote);
  EXPECT_EQ(at_local->path, "dir/a@b:c");
  auto d = parse_operand("[::1]:file", 7077);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->over_ssh);
  EXPECT_EQ(d->server.host, "::1");
  EXPECT_EQ(d->path, "file");
  auto e = parse_operand("plain.txt", 7077);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->remote);
  EXPECT_FALSE(parse_operand("", 7077));
  EXPECT_FALSE(parse_operand("ferry:///x", 7077));
  EXPECT_FALSE(parse_operand("alice@:x", 7077));
}

TEST(SourcePlace, SplitsLikeTheServerOpens) {
  auto p = source_place("a/./b/");
  EXPECT_EQ(p.parent, "a");
  EXPECT_EQ(p.name, "b");
  p = source_place("/etc/hosts");
  EXPECT_EQ(p.parent, "/etc");
  EXPECT_EQ(p.name, "hosts");
  p = source_place("/hosts");
  EXPECT_EQ(p.parent, "/");
  p = source_place("");
  EXPECT_EQ(p.parent, ".");
  EXPECT_EQ(p.name, ".");
  p = source_place("/");
  EXPECT_EQ(p.parent, "/");
  EXPECT_EQ(p.name, ".");
  p = source_place("../up/..");
  EXPECT_EQ(p.parent, "../up/..");
  EXPECT_EQ(p.name, ".");
  EXPECT_EQ(announced_name("x/y"), "y");
  EXPECT_EQ(announced_name("."), "served");
  EXPECT_EQ(announced_name("a/."), "a");
}

TEST(SshSession, RemoteShellWordsAndQuoting) {
  auto w = split_command("ssh -i 'my key' -o \"UserKnownHostsFile=/tmp/k h\" -p 22");
  ASSERT_TRUE(w);
  std::vector<std::string> want = {"ssh", "-i", "my key", "-o", "UserKnownHostsFile=/tmp/k h",
                                   "-p",  "22"};
  EXPECT_EQ(*w, want);
  EXPECT_FALSE(split_command("ssh 'unclosed"));
  EXPECT_FALSE(split_command("   "));
  EXPECT_EQ(shell_quote("/opt/fer ry/bin/ferry"), "'/opt/fer ry/bin/ferry'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

TEST(SshSession, TheReadyLineIsCheckedFieldByField) {
  const std::string token(32, 'a');
  auto e = parse_ready_line("ferry-ssh 2 40123 " + token + " 10.0.0.2", "127.0.0.1");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->server.host, "127.0.0.1");  // the name given resolves: it wins
  EXPECT_EQ(e->server.port, 40123);
  EXPECT_EQ(e->token, token);
  auto alias = parse_ready_line("ferry-ssh 2 40123 " + token + " 10.0.0.2", "no-such-host.invalid");
  ASSERT_TRUE(alias) << alias.error().message();
  EXPECT_EQ(alias->server.host, "10.0.0.2");
  EXPECT_FALSE(parse_ready_line("ferry-ssh 3 40123 " + token, "h"));
  EXPECT_FALSE(parse_ready_line("ferry-ssh 2 0 " + token, "h"));
  EXPECT_FALSE(parse_ready_line("ferry-ssh 2 70000 " + token, "h"));
  EXPECT_FALSE(parse_ready_line("ferry-ssh 2 40123 " + std::string(32, 'G'), "h"));
  EXPECT_FALSE(parse_ready_line("ferry-ssh 2 40123 short", "h"));
  EXPECT_FALSE(parse_ready_line("ferry-ssh 2 40123", "h"));
}

TEST(Auth, MacsDependOnTokenNoncesAndDirection) {
  Nonce a{}, b{};
  a[0] = 1;
  b[0] = 2;
  Mac m1 = auth::client_mac("tok", a, b);
  EXPECT_TRUE(auth::equal(m1, auth::client_mac("tok", a, b)));
  EXPECT_FALSE(auth::equal(m1, auth::client_mac("tok2", a, b)));
  EXPECT_FALSE(auth::equal(m1, auth::client_mac("tok", b, a)));
  EXPECT_FALSE(auth::equal(m1, auth::server_mac("tok", b, a)));  // no reflection
  auto t1 = auth::make_token(), t2 = auth::make_token();
  ASSERT_TRUE(t1 && t2);
  EXPECT_EQ(t1->size(), 32u);
  EXPECT_NE(*t1, *t2);
}

}  // namespace
}  // namespace ferry

namespace {
// True once the peer of `fd` has been shut down (a read sees end of file).
bool cut_off(int fd) {
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}
}  // namespace

TEST(HandshakeGate, AFullGateCutsOffTheOldestAndADeadlineCutsOffTheRest) {
  int a[2], b[2], c[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
  ferry::HandshakeGate gate(2, std::chrono::milliseconds(10000));
  auto first = gate.admit(a[0]);
  auto second = gate.admit(b[0]);
  EXPECT_FALSE(cut_off(a[1]));
  {
    auto third = gate.admit(c[0]);  // full: the oldest goes
    EXPECT_TRUE(cut_off(a[1]));
    EXPECT_FALSE(cut_off(b[1]));
    EXPECT_EQ(gate.waiting(), 2u);
  }  // a ticket gone frees its place
  EXPECT_EQ(gate.waiting(), 1u);
  second.done();  // done: no longer cut off at the deadline
  EXPECT_EQ(gate.expire(ferry::HandshakeGate::Clock::now() + std::chrono::seconds(11)), 0u);
  EXPECT_FALSE(cut_off(b[1]));
  auto late = gate.admit(c[0]);
  EXPECT_EQ(gate.expire(ferry::HandshakeGate::Clock::now() + std::chrono::seconds(11)), 1u);
  EXPECT_TRUE(cut_off(c[1]));
  for (int fd : {a[0], a[1], b[0], b[1], c[0], c[1]}) close(fd);
}

TEST(Channel, AFrameLargerThanTheReadBufferIsReceivedWhole) {
  // A WANT for a resumed file of about 1 TiB: 2^20 block hashes, 8 MiB and more.
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto timeout = std::chrono::milliseconds(20000);
  ferry::Channel a(std::make_unique<ferry::PlainTransport>(base::UniqueFd(sv[0]), "a", timeout));
  ferry::Channel b(std::make_unique<ferry::PlainTransport>(base::UniqueFd(sv[1]), "b", timeout));
  std::string payload((12u << 20) + 9, 'w');
  payload[0] = 'x';
  payload.back() = 'z';
  std::thread writer([&] {
    EXPECT_TRUE(a.send(ferry::FrameType::kWant, payload));
    EXPECT_TRUE(a.flush());
  });
  auto f = b.recv();
  writer.join();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->type, ferry::FrameType::kWant);
  ASSERT_EQ(f->payload.size(), payload.size());
  EXPECT_EQ(f->payload.front(), 'x');
  EXPECT_EQ(f->payload.back(), 'z');
}

TEST(SshSessionStart, ADestinationThatSshWouldReadAsAnOptionIsRefused) {
  // scp's old hole: a "host" such as -oProxyCommand=... runs a command.
  std::string planted = "/tmp/ferry-unit-pwned-" + std::to_string(getpid());
  ::unlink(planted.c_str());
  auto s = ferry::SshSession::start("-oProxyCommand=touch " + planted, "x", {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("not a host"), std::string::npos) << s.error().message();
  EXPECT_NE(::access(planted.c_str(), F_OK), 0);
}
