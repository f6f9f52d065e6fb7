#include "ferry/reply_queue.h"

namespace ferry {

void ReplyQueue::push(Reply r) {
  {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(r));
  }
  cv_.notify_one();
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

std::optional<Reply> ReplyQueue::pop(bool wait) {
  std::unique_lock lock(mu_);
  if (wait) cv_.wait(lock, [&] { return !replies_.empty() || finished_; });
  if (replies_.empty()) return std::nullopt;
  Reply r = std::move(replies_.front());
  replies_.pop_front();
  return r;
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
