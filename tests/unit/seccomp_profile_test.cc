// berth's default seccomp profile, call by call against the containers
// project's (Debian's /usr/share/containers/seccomp.json, podman's default):
// for a container with Docker's default capabilities on x86_64, every call
// that file lists must get the same decision from berth's profile, except
// the calls berth denies as Docker does (calls_denied_beyond_podman), which
// that file allows and berth refuses with EPERM. berth is never the weaker.
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "berth/container/default_seccomp.h"

namespace {

using nlohmann::json;

const std::set<std::string> kDockerDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

bool any_in(const json& list, const std::set<std::string>& set) {
  if (!list.is_array()) return false;
  for (const auto& x : list)
    if (set.count(x.get<std::string>())) return true;
  return false;
}

bool all_in(const json& list, const std::set<std::string>& set) {
  if (!list.is_array()) return true;
  for (const auto& x : list)
    if (!set.count(x.get<std::string>())) return false;
  return true;
}

// Whether a rule applies to our container: its includes met, excludes not.
bool applies(const json& r) {
  static const std::set<std::string> kArches = {"amd64", "x86_64", "SCMP_ARCH_X86_64"};
  json inc = r.value("includes", json::object()), exc = r.value("excludes", json::object());
  if (inc.contains("caps") && !all_in(inc["caps"], kDockerDefaultCaps)) return false;
  if (inc.contains("arches") && !any_in(inc["arches"], kArches)) return false;
  if (exc.contains("caps") && any_in(exc["caps"], kDockerDefaultCaps)) return false;
  if (exc.contains("arches") && any_in(exc["arches"], kArches)) return false;
  return true;
}

// "allow", "allow-if-args" (only with some argument values), or "errno N".
std::string decision(const json& profile, const std::string& call) {
  bool conditional = false;
  std::string denied;
  for (const auto& r : profile["syscalls"]) {
    bool named = false;
    for (const auto& n : r["names"]) named = named || n == call;
    if (!named || !applies(r)) continue;
    bool has_args = r.contains("args") && r["args"].is_array() && !r["args"].empty();
    std::string action = r["action"];
    if (action == "SCMP_ACT_ALLOW") {
      if (!has_args) return "allow";
      conditional = true;
    } else if (action == "SCMP_ACT_ERRNO" && !has_args && denied.empty()) {
      denied = fmt::format("errno {}", r.value("errnoRet", 1));
    }
  }
  if (conditional) return "allow-if-args";
  if (!denied.empty()) return denied;
  return fmt::format("errno {}", profile.value("defaultErrnoRet", 1));
}

json containers_profile() {
  std::ifstream in("/usr/share/containers/seccomp.json");
  EXPECT_TRUE(in.good()) << "install golang-github-containers-common (scripts/install-deps.sh)";
  return json::parse(in, nullptr, false);
}

TEST(DefaultSeccomp, DecidesEveryListedCallAsTheContainersProfileOrStricter) {
  json theirs = containers_profile();
  ASSERT_TRUE(theirs.is_object());
  json ours = berth::default_seccomp_profile();
  const auto& beyond = berth::calls_denied_beyond_podman();
  std::set<std::string> stricter(beyond.begin(), beyond.end());
  std::set<std::string> calls;
  for (const auto& r : theirs["syscalls"])
    for (const auto& n : r["names"]) calls.insert(n.get<std::string>());
  ASSERT_GT(calls.size(), 400u);
  size_t same = 0;
  for (const auto& call : calls) {
    std::string want = decision(theirs, call), got = decision(ours, call);
    if (stricter.count(call)) {
      EXPECT_EQ(want, "allow") << call << " is listed as stricter than podman, but podman has "
                               << want;
      EXPECT_EQ(got, "errno 1") << call;
      continue;
    }
    if (call == "clone") {  // allowed without namespace flags (Docker's rule)
      EXPECT_EQ(want, "allow") << call;
      EXPECT_EQ(got, "allow-if-args") << call;
      continue;
    }
    if (call == "clone3") {  // its flags cannot be read: ENOSYS sends libc to clone
      EXPECT_EQ(got, "errno 38") << call;
      continue;
    }
    EXPECT_EQ(got, want) << call;
    same += got == want;
  }
  EXPECT_GT(same, 400u);
}

TEST(DefaultSeccomp, CallsNotListedFailWithEnosysAndIoUringIsOneOfThem) {
  json theirs = containers_profile();
  json ours = berth::default_seccomp_profile();
  for (const char* call : {"io_uring_setup", "io_uring_enter", "io_uring_register", "add_key",
                           "request_key", "no_such_call"}) {
    EXPECT_EQ(decision(ours, call), "errno 38") << call;
    EXPECT_EQ(decision(theirs, call), "errno 38") << call;
  }
}

// Rules without arguments are all-or-nothing: none may both allow and deny.
TEST(DefaultSeccomp, NoCallIsBothAllowedAndDenied) {
  json ours = berth::default_seccomp_profile();
  std::set<std::string> allowed, denied;
  for (const auto& r : ours["syscalls"]) {
    if (r.contains("args") && !r["args"].empty()) continue;  // argument rules may mix
    for (const auto& n : r["names"])
      (r["action"] == "SCMP_ACT_ALLOW" ? allowed : denied).insert(n.get<std::string>());
  }
  for (const auto& n : denied) EXPECT_EQ(allowed.count(n), 0u) << n;
}

}  // namespace
