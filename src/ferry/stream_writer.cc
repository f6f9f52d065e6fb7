#include "ferry/stream_writer.h"

#include <sys/socket.h>

#include "base/sys.h"
#include "net/tcp_stats.h"

namespace ferry {

StreamWriter::StreamWriter(Channel& channel, size_t depth)
    : ch_(channel), depth_(depth), thread_([this] { run(); }) {}

StreamWriter::~StreamWriter() {
  bool drained;
  {
    std::lock_guard lock(mu_);
    drained = queue_.empty() && !writing_;
    if (drained) stopping_ = true;  // done: the thread ends, the socket stays
  }
  if (drained)
    cv_.notify_all();
  else
    abort();  // a failed transfer: don't wait for a peer that may not read
  thread_.join();
}

StreamWriter::Buffer StreamWriter::take_buffer(size_t capacity) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < free_.size(); ++i) {
    if (free_[i].capacity >= capacity) {
      Buffer b = std::move(free_[i]);
      free_.erase(free_.begin() + static_cast<ptrdiff_t>(i));
      b.len = 0;
      return b;
    }
  }
  return Buffer{std::unique_ptr<uint8_t[]>(new uint8_t[capacity]), capacity, 0};
}

base::Status StreamWriter::push(Buffer frames) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < depth_ || error_ || stopping_; });
  if (error_) return base::fail(*error_);
  if (stopping_) return base::fail_msg("stream writer stopped");
  queued_bytes_ += frames.len;
  queue_.push_back(std::move(frames));
  cv_.notify_all();
  return {};
}

int64_t StreamWriter::backlog() const {
  int64_t unsent = net::unsent_bytes(ch_.transport().socket_fd());
  std::lock_guard lock(mu_);
  return unsent + static_cast<int64_t>(queued_bytes_);
}

base::Status StreamWriter::finish() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && !writing_) || error_ || stopping_; });
  if (error_) return base::fail(*error_);
  return {};
}

void StreamWriter::abort() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  (void)base::sys::shutdown(ch_.transport().socket_fd(), SHUT_RDWR);
}

void StreamWriter::run() {
  for (;;) {
    Buffer b;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, nothing left
      b = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
    }
    base::Status st = ch_.write_frames(b.data.get(), b.len);
    std::lock_guard lock(mu_);
    writing_ = false;
    queued_bytes_ -= b.len;
    free_.push_back(std::move(b));
    if (!st && !error_) error_ = st.error();
    cv_.notify_all();
    if (error_) return;
  }
}

}  // namespace ferry
