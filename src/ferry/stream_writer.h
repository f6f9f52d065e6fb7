// StreamWriter: the thread that writes one extra stream of a parallel
// transfer. The sender reads and hashes in one thread; were it also to write
// every stream in turn, it would sit blocked on one full stream (in slow
// start, or after a loss) while the others ran dry. Instead it hands each
// extra stream whole frames through a short queue, and this thread writes
// them, so every stream drains at its own pace.
//
// Frames are built in place in buffers the writer hands back for reuse
// (take_buffer()), so a chunk is read from the source straight into the
// bytes that go to the socket, with no copy.
// Thread-safety: one producer thread calls take_buffer/push/finish/abort;
// room() may be called from that thread too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/error.h"
#include "ferry/channel.h"

namespace ferry {

class StreamWriter {
 public:
  struct Buffer {
    std::unique_ptr<uint8_t[]> data;
    size_t capacity = 0;
    size_t len = 0;  // bytes of whole frames in it
  };

  // `depth`: frames queued before push() waits.
  explicit StreamWriter(Channel& channel, size_t depth = 3);
  ~StreamWriter();  // aborts and joins if finish() was not reached
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  // A buffer of at least `capacity` bytes, empty (reused when one is free).
  Buffer take_buffer(size_t capacity);
  // Queues the buffer's frames; waits while the queue is full. Fails once the
  // writer has failed (with its error).
  base::Status push(Buffer frames);
  // Bytes waiting to go out on this stream: queued here, and written but
  // not yet sent by TCP. For choosing the stream that can take data now.
  int64_t backlog() const;
  // Waits until everything queued is written; the writer's error, if any.
  base::Status finish();
  // Stops at once: shuts the socket down so a blocked write returns.
  void abort();

 private:
  void run();

  Channel& ch_;
  size_t depth_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Buffer> queue_;
  std::vector<Buffer> free_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stopping_ = false;
  std::optional<base::Error> error_;
  std::thread thread_;
};

}  // namespace ferry
