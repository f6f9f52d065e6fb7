#include "berth/build/stage_scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace berth::build {

base::Status run_stages(const std::map<size_t, std::set<size_t>>& deps, size_t width,
                        const std::function<base::Status(size_t)>& task,
                        const std::function<void()>& on_failure) {
  std::mutex m;
  std::condition_variable changed;
  std::set<size_t> done, running;
  base::Status first_failure;
  std::vector<std::thread> threads;
  width = std::max<size_t>(width, 1);
  auto ready = [&](size_t stage) {
    const auto& needs = deps.at(stage);
    return std::all_of(needs.begin(), needs.end(), [&](size_t d) { return done.contains(d); });
  };
  std::unique_lock lock(m);
  while (first_failure && done.size() < deps.size()) {
    for (const auto& [stage, needs] : deps) {
      if (running.size() >= width) break;
      if (done.contains(stage) || running.contains(stage) || !ready(stage)) continue;
      running.insert(stage);
      threads.emplace_back([&, stage = stage] {
        // An exception must not leave its thread (std::terminate): it becomes
        // the stage's error, as berth's main turns one into "internal error".
        base::Status s;
        try {
          s = task(stage);
        } catch (const std::exception& e) {
          s = base::fail_msg(fmt::format("internal error: {}", e.what()));
        }
        std::lock_guard guard(m);
        running.erase(stage);
        if (s) {
          done.insert(stage);
        } else if (first_failure) {
          first_failure = std::move(s);
          on_failure();
        }
        changed.notify_all();
      });
    }
    if (running.empty()) break;  // nothing can start: a dependency is missing
    changed.wait(lock);
  }
  changed.wait(lock, [&] { return running.empty(); });
  lock.unlock();
  for (auto& t : threads) t.join();
  if (!first_failure) return first_failure;
  if (done.size() < deps.size()) return base::fail_msg("a stage's dependencies were never built");
  return {};
}

}  // namespace berth::build
