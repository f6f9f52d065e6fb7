#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "base/child_process.h"
#include "base/dirs.h"
#include "base/error.h"
#include "base/sys.h"
#include "base/timestamp.h"
#include "base/units.h"
#include "net/address.h"

namespace {

base::Result<int> half(int x) {
  if (x % 2) return base::fail_msg("odd");
  return x / 2;
}

base::Result<int> quarter(int x) {
  int h = TRY(half(x));
  return TRY_CTX(half(h), "second half");
}

TEST(Error, SystemErrorNamesOperationSubjectAndCause) {
  auto e = base::Error::sys(ENOENT, "open", "/nope");
  EXPECT_EQ(e.message(), "open /nope: No such file or directory");
  EXPECT_EQ(e.code(), ENOENT);
  e.context("serve");
  EXPECT_EQ(e.message(), "serve: open /nope: No such file or directory");
}

TEST(Error, TryPropagatesAndAddsContext) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(3).error().message(), "odd");
  EXPECT_EQ(quarter(6).error().message(), "second half: odd");
}

TEST(Sys, OpenFailureCarriesErrnoAndPath) {
  auto fd = base::sys::open("/definitely/not/here", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), ENOENT);
  EXPECT_NE(fd.error().message().find("/definitely/not/here"), std::string::npos);
}

TEST(Sys, OpenIsCloseOnExec) {
  auto fd = base::sys::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd);
  EXPECT_TRUE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
}

TEST(Sys, LinkatReportsATakenNameAsEexist) {
  char dir[] = "/tmp/base-test-link-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string a = std::string(dir) + "/a", b = std::string(dir) + "/b";
  ASSERT_TRUE(base::sys::open(a, O_WRONLY | O_CREAT, 0600));
  EXPECT_TRUE(base::sys::linkat(AT_FDCWD, a, AT_FDCWD, b, 0));
  auto again = base::sys::linkat(AT_FDCWD, a, AT_FDCWD, b, 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EEXIST);
  EXPECT_EQ(again.error().message().rfind("link " + b + ":", 0), 0u) << again.error().message();
  (void)base::sys::unlinkat(AT_FDCWD, a, 0);
  (void)base::sys::unlinkat(AT_FDCWD, b, 0);
  (void)base::sys::unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
}

TEST(Sys, SetxattrNamesTheCallAndSubject) {
  auto s = base::sys::setxattr("/definitely/not/here", "user.x", "y", 1, 0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ENOENT);
  EXPECT_EQ(s.error().message(), "setxattr /definitely/not/here: No such file or directory");
}

TEST(Sys, RecvmsgCarriesADescriptor) {
  auto pair = base::sys::socketpair(AF_UNIX, SOCK_STREAM);
  ASSERT_TRUE(pair);
  auto null_fd = base::sys::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(null_fd);
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int sent_fd = null_fd->get();
  std::memcpy(CMSG_DATA(c), &sent_fd, sizeof sent_fd);
  ASSERT_TRUE(base::sys::sendmsg(pair->first.get(), &msg, 0));
  char got = 0;
  iovec in_iov{&got, 1};
  alignas(cmsghdr) char in_control[CMSG_SPACE(sizeof(int))] = {};
  msghdr in{};
  in.msg_iov = &in_iov;
  in.msg_iovlen = 1;
  in.msg_control = in_control;
  in.msg_controllen = sizeof in_control;
  auto n = base::sys::recvmsg(pair->second.get(), &in, MSG_CMSG_CLOEXEC);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(got, 'x');
  cmsghdr* r = CMSG_FIRSTHDR(&in);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->cmsg_type, SCM_RIGHTS);
  int fd;
  std::memcpy(&fd, CMSG_DATA(r), sizeof fd);
  base::UniqueFd received(fd);
  EXPECT_TRUE(fcntl(received.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(Sys, TimerfdFiresAtAnAbsoluteTime) {
  auto timer = base::sys::timerfd_create(CLOCK_MONOTONIC);
  ASSERT_TRUE(timer);
  EXPECT_EQ(*base::sys::poll_one(timer->get(), POLLIN, 0), 0);  // not armed
  struct timespec now {};
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &now), 0);
  ASSERT_TRUE(base::sys::timerfd_settime_abs(timer->get(), now));  // already due
  EXPECT_EQ(*base::sys::poll_one(timer->get(), POLLIN, 5000), POLLIN);
  ASSERT_TRUE(base::sys::timerfd_settime_abs(timer->get(), {0, 0}));  // disarmed, expiry cleared
  EXPECT_EQ(*base::sys::poll_one(timer->get(), POLLIN, 0), 0);
}

TEST(Sys, SignalfdReadsABlockedSignal) {
  constexpr int kSignals[] = {SIGUSR2};
  ASSERT_TRUE(base::sys::block_signals(kSignals));
  auto fd = base::sys::signalfd(kSignals);
  ASSERT_TRUE(fd);
  EXPECT_EQ(*base::sys::poll_one(fd->get(), POLLIN, 0), 0);
  ASSERT_EQ(raise(SIGUSR2), 0);  // pending, not delivered
  EXPECT_EQ(*base::sys::poll_one(fd->get(), POLLIN, 5000), POLLIN);
  struct signalfd_siginfo info {};
  auto n = base::sys::read(fd->get(), &info, sizeof info);
  ASSERT_TRUE(n);
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR2));
}

TEST(Units, FormatsAndParses) {
  EXPECT_EQ(base::units::bytes(512), "512 B");
  EXPECT_EQ(base::units::bytes(1536), "1.50 KiB");
  EXPECT_EQ(base::units::rate(1.5e9), "1.50 GB/s");
  EXPECT_EQ(*base::units::parse_size("64K"), 65536u);
  EXPECT_EQ(*base::units::parse_size("2GiB"), 2ull << 30);
  EXPECT_FALSE(base::units::parse_size("12 parsecs"));
  EXPECT_FALSE(base::units::parse_size("1.5.5m")) << "not 1.5m";
  EXPECT_FALSE(base::units::parse_size(".5m"));
  EXPECT_FALSE(base::units::parse_size("5.m"));
  EXPECT_EQ(*base::units::parse_size("1.5m"), 1572864u);
  EXPECT_FALSE(base::units::parse_size(""));
}

TEST(Address, ParsesHostPortForms) {
  auto a = net::parse_host_port("127.0.0.1:99", 7);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 99);
  auto b = net::parse_host_port("[::1]:8080", 7);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 8080);
  auto c = net::parse_host_port("example", 7);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->port, 7);
  auto d = net::parse_host_port(":0", 7);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "");
  EXPECT_EQ(d->port, 0);
  EXPECT_FALSE(net::parse_host_port("h:99999", 7));
  EXPECT_FALSE(net::parse_host_port("h:x", 7));
  EXPECT_FALSE(net::parse_host_port("[::1", 7));
}

}  // namespace

TEST(ChildProcess, ReportsExitCodesAndSignals) {
  auto ok = base::ChildProcess::spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(ok) << ok.error().message();
  auto code = ok->wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 3);
  auto killed = base::ChildProcess::spawn({"/bin/sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(killed);
  EXPECT_EQ(*killed->wait(), 128 + 9);
  auto missing = base::ChildProcess::spawn({"/nonexistent/program"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/program"), std::string::npos);
}

TEST(ChildProcess, ARunningChildIsEndedAndReapedWithItsOwner) {
  pid_t pid;
  {
    auto sleeper = base::ChildProcess::spawn({"sleep", "600"});
    ASSERT_TRUE(sleeper);
    pid = sleeper->pid();
    auto running = sleeper->poll();
    ASSERT_TRUE(running);
    EXPECT_FALSE(running->has_value());
  }
  // Reaped: the pid names no process (not even a zombie) of ours.
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(ChildProcess, StdinAndStdoutCanBePipes) {
  auto in = base::sys::pipe();
  auto out = base::sys::pipe();
  ASSERT_TRUE(in && out);
  auto cat = base::ChildProcess::spawn({"cat"}, in->read.get(), out->write.get());
  ASSERT_TRUE(cat);
  in->read = base::UniqueFd();
  out->write = base::UniqueFd();
  ASSERT_TRUE(base::sys::write_all(in->write.get(), "hello", 5));
  in->write = base::UniqueFd();
  char buf[16] = {};
  auto n = base::sys::read(out->read.get(), buf, sizeof buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "hello");
  EXPECT_EQ(*cat->wait(), 0);
}

TEST(Timestamp, DockersHumanDurationsAndTimes) {
  EXPECT_EQ(base::human_duration(0), "Less than a second");
  EXPECT_EQ(base::human_duration(1), "1 second");
  EXPECT_EQ(base::human_duration(59), "59 seconds");
  EXPECT_EQ(base::human_duration(60), "About a minute");
  EXPECT_EQ(base::human_duration(119), "About a minute");
  EXPECT_EQ(base::human_duration(120), "2 minutes");
  EXPECT_EQ(base::human_duration(3599), "59 minutes");
  EXPECT_EQ(base::human_duration(3600), "About an hour");
  EXPECT_EQ(base::human_duration(5400), "2 hours");  // rounded, as go-units
  EXPECT_EQ(base::human_duration(47 * 3600), "47 hours");
  EXPECT_EQ(base::human_duration(48 * 3600), "2 days");
  EXPECT_EQ(base::human_duration(14 * 86400), "2 weeks");
  EXPECT_EQ(base::human_duration(60 * 86400), "2 months");
  EXPECT_EQ(base::human_duration(800 * 86400), "2 years");
  EXPECT_EQ(base::parse_rfc3339("1970-01-01T00:01:00.5Z"), 60);
  EXPECT_EQ(base::parse_rfc3339("2026-12-06T09:24:51.123456789Z"), 1796549091);
  EXPECT_EQ(base::parse_rfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(base::parse_rfc3339("2026-12-06T09:24:51Zjunk"), std::nullopt);
  EXPECT_EQ(base::docker_time("2026-12-06T09:24:51.1Z"), "2026-12-06 09:24:51 +0000 UTC");
  EXPECT_EQ(base::docker_time(""), "");
}

// A tree deeper than the fd limit and than PATH_MAX (a container can make
// one under its upper directory) is measured and removed whole, with one
// directory fd at a time; a symlink in it to a file outside is removed, not
// followed.
TEST(Dirs, TreeWalksTakeATreeDeeperThanTheFdLimitAndPathMax) {
  auto scratch = base::OwnedDir::make("/tmp", "base-test-");
  ASSERT_TRUE(scratch) << scratch.error().message();
  const std::string& tmpl = scratch->path();
  std::string top = tmpl + "/tree";
  std::string outside = tmpl + "/outside";
  { base::UniqueFd f(::open(outside.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  base::UniqueFd fd(::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  const int kDepth = 2500;  // names of 3 bytes: 10000 bytes of path, past PATH_MAX
  for (int i = 0; i < kDepth; ++i) {
    ASSERT_EQ(::mkdirat(fd.get(), "ddd", 0755), 0) << i;
    if (i % 100 == 0) {
      base::UniqueFd file(::openat(fd.get(), "file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      ASSERT_EQ(::write(file.get(), "abc", 3), 3);
      ASSERT_EQ(::symlinkat(outside.c_str(), fd.get(), "link"), 0);
      ASSERT_EQ(::mkdirat(fd.get(), "side", 0555), 0);  // a second branch, read-only
    }
    fd = base::UniqueFd(::openat(fd.get(), "ddd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd) << i;
  }
  fd.reset();
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = 64;  // far fewer than the tree's depth
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto size = base::tree_size(top);  // 25 files of 3 bytes, the deepest 2400 levels down
  auto removed = base::remove_tree(top);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_EQ(size.value_or(0), 75u);
  EXPECT_TRUE(removed) << removed.error().message();
  struct stat st {};
  EXPECT_NE(::lstat(top.c_str(), &st), 0) << "the tree is still there";
  EXPECT_EQ(::lstat(outside.c_str(), &st), 0) << "a symlink's target went too";
  EXPECT_TRUE(base::remove_tree(tmpl));
  EXPECT_TRUE(base::remove_tree(tmpl + "/missing")) << "a missing path is fine";
}

// A mount inside a tree being removed is never walked onto: remove_tree
// fails (EBUSY) with the mount's files intact. A wide tree of non-empty
// directories goes whole.
TEST(Dirs, RemoveTreeStopsAtAMountAndTakesAWideTree) {
  auto scratch = base::OwnedDir::make("/tmp", "base-test-");
  ASSERT_TRUE(scratch) << scratch.error().message();
  const std::string& tmpl = scratch->path();
  std::string top = tmpl + "/tree";
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  for (int i = 0; i < 2000; ++i) {
    std::string d = top + "/d" + std::to_string(i);
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
    base::UniqueFd f(::open((d + "/f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  }
  std::string mnt = top + "/d7/mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  { base::UniqueFd f(::open((mnt + "/kept").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
  auto refused = base::remove_tree(top);
  struct stat st {};
  bool kept = ::lstat((mnt + "/kept").c_str(), &st) == 0;
  ASSERT_EQ(::umount2(mnt.c_str(), MNT_DETACH), 0);
  EXPECT_FALSE(refused);
  EXPECT_TRUE(kept) << "the walk went onto the mount";
  EXPECT_TRUE(base::remove_tree(top));
  EXPECT_NE(::lstat(top.c_str(), &st), 0);
  EXPECT_TRUE(base::remove_tree(tmpl));
}
