#include "ferry/reply_queue.h"

namespace ferry {

void ReplyQueue::push(Reply r) {
  {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(r));
  }
  cv_.notify_one();
}

bool ReplyQueue::push_signature(SignatureBatch b) {
  {
    std::lock_guard lock(mu_);
    size_t bytes = b.sums.size() * sizeof(sync::BlockSum);
    if (signature_bytes_ + bytes > kMaxQueuedSignatures) return false;
    signature_bytes_ += bytes;
    signatures_.push_back(std::move(b));
  }
  cv_.notify_all();
  return true;
}

std::optional<SignatureBatch> ReplyQueue::pop_signature_for(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, limit, [&] { return !signatures_.empty() || finished_; });
  if (signatures_.empty()) return std::nullopt;
  SignatureBatch b = std::move(signatures_.front());
  signatures_.pop_front();
  signature_bytes_ -= b.sums.size() * sizeof(sync::BlockSum);
  return b;
}

void ReplyQueue::finish(ResultMsg result) {
  {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
    finished_ = true;
  }
  cv_.notify_all();
}

void ReplyQueue::fail(base::Error e) {
  {
    std::lock_guard lock(mu_);
    if (!error_ && !result_) error_ = std::move(e);
    finished_ = true;
  }
  cv_.notify_all();
}

std::optional<Reply> ReplyQueue::take_front() {
  std::optional<Reply> r;
  if (!replies_.empty()) {
    r.emplace(std::move(replies_.front()));
    replies_.pop_front();
  }
  return r;
}

std::optional<Reply> ReplyQueue::pop(bool wait) {
  std::unique_lock lock(mu_);
  if (wait) cv_.wait(lock, [&] { return !replies_.empty() || finished_; });
  return take_front();
}

std::optional<Reply> ReplyQueue::pop_for(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, limit, [&] { return !replies_.empty() || finished_; });
  return take_front();
}

bool ReplyQueue::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

std::optional<ResultMsg> ReplyQueue::result() const {
  std::lock_guard lock(mu_);
  return result_;
}

std::optional<base::Error> ReplyQueue::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

}  // namespace ferry
