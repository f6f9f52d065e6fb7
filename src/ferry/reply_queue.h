// ReplyQueue: what a sender hears back while it sends. A reader thread
// moves the receiver's WANT and RETRY messages here; the sending thread
// takes them in order. A sync's SIGNATURE batches have a lane of their own,
// taken by the sending thread while it builds that file's delta. The queue also records how the
// conversation ended: the receiver's RESULT, or an error (connection lost, protocol violation).
// Thread-safety: all members are safe to call from both threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "base/error.h"
#include "ferry/messages.h"
#include "ferry/sync/delta_signature.h"

namespace ferry {

using Reply = std::variant<Want, Retry>;

// Block sums waiting to be matched, at most (a receiver far ahead of the
// sender, or one that sends what it was not asked for, is stopped here).
inline constexpr size_t kMaxQueuedSignatures = size_t{256} << 20;

// One SIGNATURE frame, decoded: strong sums past strong_len bytes are zero.
struct SignatureBatch {
  uint32_t id = 0;
  uint32_t block_size = 0;
  uint64_t old_size = 0;
  uint64_t first_block = 0;
  uint8_t strong_len = 0;
  std::vector<sync::BlockSum> sums;
};

class ReplyQueue {
 public:
  void push(Reply r);
  // False (and nothing queued) once kMaxQueuedSignatures bytes of sums wait.
  bool push_signature(SignatureBatch b);
  // The next SIGNATURE batch, waiting at most `limit`; nullopt on timeout or
  // once finished.
  std::optional<SignatureBatch> pop_signature_for(std::chrono::milliseconds limit);
  void finish(ResultMsg result);
  void fail(base::Error e);
  // Next reply; blocks when `wait` and none is queued. nullopt once finished
  // (or, with !wait, when nothing is queued).
  std::optional<Reply> pop(bool wait);
  // Like pop(true), but gives up after `limit`.
  std::optional<Reply> pop_for(std::chrono::milliseconds limit);
  bool finished() const;
  std::optional<ResultMsg> result() const;
  std::optional<base::Error> error() const;

 private:
  std::optional<Reply> take_front();  // with mu_ held

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Reply> replies_;
  std::deque<SignatureBatch> signatures_;
  size_t signature_bytes_ = 0;
  bool finished_ = false;
  std::optional<ResultMsg> result_;
  std::optional<base::Error> error_;
};

}  // namespace ferry
