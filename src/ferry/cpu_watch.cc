#include "ferry/cpu_watch.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "base/text_file.h"

namespace ferry {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<uint64_t> number(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool has_word(std::string_view list, std::string_view word) {
  for (auto w : split(list, ','))
    if (w == word) return true;
  return false;
}

// A mounted cgroup hierarchy that accounts CPU: where it is mounted, and
// which cgroup path is its root there (not "/" inside a container).
struct CpuHierarchy {
  bool v2;
  std::string mount_point;
  std::string root;
};

std::vector<CpuHierarchy> cpu_hierarchies(std::string_view mountinfo) {
  std::vector<CpuHierarchy> out;
  for (auto line : split(mountinfo, '\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER_OPTIONS
    auto fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    std::string_view fstype = dash[1], super = dash[3];
    if (fstype == "cgroup2")
      out.push_back({true, std::string(fields[4]), std::string(fields[3])});
    else if (fstype == "cgroup" && has_word(super, "cpu"))
      out.push_back({false, std::string(fields[4]), std::string(fields[3])});
  }
  return out;
}

}  // namespace

std::optional<ThreadTimes> parse_schedstat(std::string_view text) {
  auto fields = split(text.substr(0, text.find('\n')), ' ');
  if (fields.size() < 2) return std::nullopt;
  auto run = number(fields[0]), wait = number(fields[1]);
  if (!run || !wait) return std::nullopt;
  return ThreadTimes{*run, *wait};
}

std::optional<uint64_t> parse_throttled_ns(std::string_view cpu_stat) {
  for (auto line : split(cpu_stat, '\n')) {
    auto kv = split(line, ' ');
    if (kv.size() != 2) continue;
    auto v = number(kv[1]);
    if (!v) continue;
    if (kv[0] == "throttled_time") return *v;         // v1, ns
    if (kv[0] == "throttled_usec") return *v * 1000;  // v2, µs
  }
  return std::nullopt;
}

std::vector<std::string> cpu_stat_paths(std::string_view proc_cgroup, std::string_view mountinfo) {
  std::vector<std::string> out;
  auto hierarchies = cpu_hierarchies(mountinfo);
  for (auto line : split(proc_cgroup, '\n')) {
    // HIERARCHY-ID:CONTROLLERS:PATH; v2 is "0::PATH".
    size_t a = line.find(':'), b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view controllers = line.substr(a + 1, b - a - 1);
    std::string path(line.substr(b + 1));
    bool v2 = line.substr(0, a) == "0" && controllers.empty();
    if (!v2 && !has_word(controllers, "cpu")) continue;
    for (const auto& h : hierarchies) {
      if (h.v2 != v2) continue;
      std::string rel = path;
      if (h.root != "/") {
        if (rel.compare(0, h.root.size(), h.root) != 0) continue;
        rel = rel.substr(h.root.size());
      }
      // The group itself, then each ancestor up to the hierarchy's root.
      std::string_view r = rel;
      while (!r.empty() && (r.front() == '/' || r.back() == '/'))
        r = r.front() == '/' ? r.substr(1) : r.substr(0, r.size() - 1);
      std::filesystem::path top(h.mount_point);
      std::filesystem::path dir = r.empty() ? top : top / std::string(r);
      for (;;) {
        out.push_back((dir / "cpu.stat").string());
        if (dir == top || dir.parent_path() == dir) break;
        dir = dir.parent_path();
      }
    }
  }
  return out;
}

CpuWatch::CpuWatch() {
  auto cg = base::read_text("/proc/self/cgroup");
  auto mi = base::read_text("/proc/self/mountinfo");
  if (cg && mi) stat_paths_ = cpu_stat_paths(*cg, *mi);
  threads_ = read_threads();
  throttled_ = read_throttled();
}

std::map<pid_t, ThreadTimes> CpuWatch::read_threads() const {
  std::map<pid_t, ThreadTimes> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end;
       it.increment(ec)) {
    auto tid = number(it->path().filename().string());
    if (!tid) continue;
    auto text = base::read_text(it->path().string() + "/schedstat");
    if (!text) continue;  // the thread ended meanwhile
    if (auto t = parse_schedstat(*text)) out[static_cast<pid_t>(*tid)] = *t;
  }
  return out;
}

std::vector<uint64_t> CpuWatch::read_throttled() const {
  std::vector<uint64_t> out;
  for (const auto& path : stat_paths_) {
    auto text = base::read_text(path);
    out.push_back(text ? parse_throttled_ns(*text).value_or(0) : 0);
  }
  return out;
}

CpuShares CpuWatch::sample(double interval_s) {
  CpuShares s;
  if (interval_s <= 0) return s;
  double per = interval_s * 1e9;
  auto now = read_threads();
  double busiest = -1;
  uint64_t total = 0;
  for (const auto& [tid, t] : now) {
    ThreadTimes before;  // a thread born in the interval started from zero
    if (auto it = threads_.find(tid); it != threads_.end()) before = it->second;
    uint64_t run = t.run_ns - std::min(t.run_ns, before.run_ns);
    uint64_t wait = t.wait_ns - std::min(t.wait_ns, before.wait_ns);
    total += run;
    if (static_cast<double>(run + wait) > busiest) {
      busiest = static_cast<double>(run + wait);
      s.busiest_run = std::min(1.0, static_cast<double>(run) / per);
      s.busiest_wait = std::min(1.0, static_cast<double>(wait) / per);
    }
  }
  s.process = static_cast<double>(total) / per;
  threads_ = std::move(now);
  auto throttled = read_throttled();
  for (size_t i = 0; i < throttled.size() && i < throttled_.size(); ++i) {
    uint64_t d = throttled[i] - std::min(throttled[i], throttled_[i]);
    s.throttled = std::max(s.throttled, std::min(1.0, static_cast<double>(d) / per));
  }
  throttled_ = std::move(throttled);
  return s;
}

}  // namespace ferry
