#include "berth/container/health.h"

#include <fcntl.h>
#include <poll.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "base/child_process.h"
#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "berth/container/container_exec.h"

namespace berth {
namespace {

using nlohmann::json;

constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kMaxOutput = 4096;

int64_t ns_of(const json& hc, const char* key, int64_t fallback) {
  int64_t v = hc.value(key, int64_t{0});
  return v > 0 ? v : fallback;
}

// One run of the test: its exit code (-1: it outlived the timeout) and output.
std::pair<int, std::string> probe(const Paths& p, const std::string& id,
                                  const std::vector<std::string>& args, int64_t timeout_ns) {
  auto pipe = base::sys::pipe();
  if (!pipe) return {-1, pipe.error().message()};
  base::UniqueFd reader = std::move(pipe->read), writer = std::move(pipe->write);
  int out_fd = writer.get();
  auto child = base::ChildProcess::fork([&] {
    auto null_fd = base::sys::open("/dev/null", O_RDONLY);
    if (!null_fd || !base::sys::dup2(null_fd->get(), 0) || !base::sys::dup2(out_fd, 1) ||
        !base::sys::dup2(out_fd, 2))
      return 126;
    ExecRequest r;
    r.args = args;
    auto code = exec_in_container(p, id, r);
    return code ? *code : 126;
  });
  writer.reset();
  if (!child) return {-1, child.error().message()};
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return {-1, fmt::format("Health check exceeded timeout ({}s)",
                              static_cast<double>(timeout_ns) / kSecond)};
    auto ready = base::sys::poll_one(reader.get(), POLLIN, static_cast<int>(left.count()));
    if (!ready || *ready == 0) continue;
    char buf[4096];
    auto n = base::sys::read(reader.get(), buf, sizeof buf);
    if (!n || *n == 0) break;  // the end: the test (and all it started) closed its output
    output.append(buf, std::min(*n, kMaxOutput - std::min(output.size(), kMaxOutput)));
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  auto code = child->wait_for(std::max(left, std::chrono::milliseconds(1)));
  if (!code || !*code)
    return {-1, fmt::format("Health check exceeded timeout ({}s)",
                            static_cast<double>(timeout_ns) / kSecond)};
  return {**code, output};
}

}  // namespace

base::Result<json> health_config(const RunOptions& o, const json& image_config) {
  if (o.no_healthcheck) return json();
  json hc = image_config.value("config", json::object()).value("Healthcheck", json());
  if (!hc.is_object()) hc = json::object();
  if (o.health_cmd) hc["Test"] = json::array({"CMD-SHELL", *o.health_cmd});
  struct Duration {
    const char* key;
    const char* flag;
    const std::string* value;
  };
  for (const Duration& d :
       {Duration{"Interval", "--health-interval", &o.health_interval},
        Duration{"Timeout", "--health-timeout", &o.health_timeout},
        Duration{"StartPeriod", "--health-start-period", &o.health_start_period}}) {
    if (d.value->empty()) continue;
    auto seconds = base::parse_go_duration(*d.value);
    if (!seconds || *seconds < 0.001 || *seconds > 86400.0 * 365)
      return base::fail_msg(fmt::format(
          "{} '{}': not a duration of at least 1ms (30s, 1m30s, 500ms)", d.flag, *d.value));
    hc[d.key] = static_cast<int64_t>(std::llround(*seconds * kSecond));
  }
  if (o.health_retries) {
    if (*o.health_retries < 0) return base::fail_msg("--health-retries: cannot be negative");
    hc["Retries"] = *o.health_retries;
  }
  return hc.empty() ? json() : hc;
}

bool has_health_checks(const json& hc) {
  if (!hc.is_object() || !hc.contains("Test") || !hc["Test"].is_array() || hc["Test"].empty())
    return false;
  const json& kind = hc["Test"][0];
  return kind == "CMD" || kind == "CMD-SHELL";
}

int run_health_checks(const Paths& p, const std::string& id, const std::string& dir,
                      const json& hc) {
  std::vector<std::string> args;
  for (size_t i = 1; i < hc["Test"].size(); ++i)
    if (hc["Test"][i].is_string()) args.push_back(hc["Test"][i].get<std::string>());
  if (hc["Test"][0] == "CMD-SHELL") {
    std::string cmd = args.empty() ? "" : args[0];
    args = {"/bin/sh", "-c", cmd};
  }
  if (args.empty()) return 0;
  int64_t interval = ns_of(hc, "Interval", 30 * kSecond);
  int64_t timeout = ns_of(hc, "Timeout", 30 * kSecond);
  int64_t start_period = hc.value("StartPeriod", int64_t{0});
  int retries = hc.value("Retries", 0) > 0 ? hc.value("Retries", 3) : 3;
  json state = {{"Status", "starting"}, {"FailingStreak", 0}, {"Log", json::array()}};
  auto save = [&] {
    (void)base::replace_file(dir + "/health.json",
                             state.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  save();
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(interval));
    std::string begin = base::now_rfc3339();
    auto [code, output] = probe(p, id, args, timeout);
    json entry = {
        {"Start", begin}, {"End", base::now_rfc3339()}, {"ExitCode", code}, {"Output", output}};
    state["Log"].push_back(entry);
    if (state["Log"].size() > 5) state["Log"].erase(0);
    bool starting =
        std::chrono::steady_clock::now() - started < std::chrono::nanoseconds(start_period);
    if (code == 0) {
      state["Status"] = "healthy";
      state["FailingStreak"] = 0;
    } else if (!starting || state["Status"] != "starting") {
      int streak = state["FailingStreak"].get<int>() + 1;
      state["FailingStreak"] = streak;
      if (streak >= retries) state["Status"] = "unhealthy";
    }
    save();
  }
}

json health_state(const std::string& dir) {
  auto text = base::read_text_capped(dir + "/health.json", size_t{1} << 20);
  if (!text) return json();
  auto j = json::parse(*text, nullptr, false);
  return j.is_object() ? j : json();
}

}  // namespace berth
