#include "ferry/signature_worker.h"

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "ferry/sync/delta_block_size.h"
#include "ferry/sync/delta_signature.h"
#include "ferry/sync_messages.h"

namespace ferry {

uint8_t strong_length(uint64_t size, uint32_t block) {
  int bits = 10;  // rsync's bias
  for (uint64_t l = size; l >>= 1;) bits += 2;
  for (uint32_t b = block; (b >>= 1) && bits > 0;) --bits;
  int bytes = (bits + 1 - 32 + 7) / 8;
  return static_cast<uint8_t>(std::clamp(bytes, 2, 16));
}

SignatureWorker::SignatureWorker(std::function<base::Status(const std::string&)> send,
                                 std::function<void(const base::Error&)> failed)
    : send_(std::move(send)), failed_(std::move(failed)), thread_([this] { run(); }) {}

SignatureWorker::~SignatureWorker() {
  stop();
}

void SignatureWorker::queue(uint32_t id, base::UniqueFd old, uint64_t old_size) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(Job{id, std::move(old), old_size});
  }
  cv_.notify_one();
}

void SignatureWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SignatureWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (auto st = sign(job); !st) {
      failed_(st.error());
      std::lock_guard lock(mu_);
      stopping_ = true;
      jobs_.clear();
      return;
    }
  }
}

base::Status SignatureWorker::sign(const Job& job) {
  // Sent as it is read, so the sender matches while the rest is still read.
  uint32_t block = sync::block_size_for(job.size);
  SignatureMsg head{job.id, block, job.size, 0, strong_length(job.size, block), {}};
  size_t per_sum = 4u + head.strong_len;
  sync::SignatureReader reader(job.old.get(), job.size, block);
  std::vector<sync::BlockSum> batch;
  bool broken = false;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return {};
    }
    size_t max = (64u << 10) / per_sum;
    uint64_t left = reader.block_count() - head.first_block;
    if (left == 0) return {};
    if (!broken) {
      auto read = reader.next(batch, max);
      if (!read) {
        // The old copy changed under us (it shrank, say). The sender still
        // waits for every sum: the rest go as zeros, which match nothing
        // real, and the whole file's hash decides what was rebuilt.
        base::log::warn("{}; the rest of its delta is sent as new data", read.error().message());
        broken = true;
      }
    }
    if (broken) batch.assign(static_cast<size_t>(std::min<uint64_t>(left, max)), sync::BlockSum{});
    size_t n = batch.size();
    std::string payload = encode_signature_header(head);
    payload.reserve(payload.size() + n * per_sum);
    for (const auto& s : batch) {
      const char w[4] = {static_cast<char>(s.weak >> 24), static_cast<char>(s.weak >> 16),
                         static_cast<char>(s.weak >> 8), static_cast<char>(s.weak)};
      payload.append(w, 4);
      payload.append(reinterpret_cast<const char*>(s.strong.data()), head.strong_len);
    }
    TRY_STATUS(send_(payload));
    head.first_block += n;
  }
}

}  // namespace ferry
