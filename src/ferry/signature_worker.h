// SignatureWorker: a sync receiver's thread that reads old copies and sends
// their block sums (SIGNATURE frames), so the receiving thread goes on
// applying deltas while the next signature is read. Jobs are done in the
// order queued (the sender expects signatures in the order of its WANTs).
// Each job owns its own descriptor of the old file.
// Thread-safety: queue() and stop() from any thread; `send` and `failed`
// are called on the worker's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

class SignatureWorker {
 public:
  // `send` sends one SIGNATURE payload; `failed` hears the first error (the
  // worker then stops taking jobs).
  SignatureWorker(std::function<base::Status(const std::string&)> send,
                  std::function<void(const base::Error&)> failed);
  ~SignatureWorker();  // stop()
  SignatureWorker(const SignatureWorker&) = delete;
  SignatureWorker& operator=(const SignatureWorker&) = delete;

  void queue(uint32_t id, base::UniqueFd old, uint64_t old_size);
  // Ends the thread after the job in hand; queued jobs are dropped.
  void stop();

 private:
  struct Job {
    uint32_t id;
    base::UniqueFd old;
    uint64_t size;
  };
  void run();
  base::Status sign(const Job& job);

  std::function<base::Status(const std::string&)> send_;
  std::function<void(const base::Error&)> failed_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

// How many bytes of each block's XXH3-128 a signature carries for a file of
// `size` in blocks of `block`: rsync's sizing (the whole file's hash is
// checked after, and a mismatch sent again in full).
uint8_t strong_length(uint64_t size, uint32_t block);

}  // namespace ferry
