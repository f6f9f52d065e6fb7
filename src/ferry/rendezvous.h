// StreamRendezvous: where a transfer's extra TCP streams find it. The
// connection that made the request opens a session and waits; each extra
// connection, once authenticated, sends JOIN with the session id and its
// index and is handed over here. Sessions that do not fill up in time fail.
// Thread-safety: all members may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/error.h"
#include "ferry/channel.h"
#include "ferry/messages.h"

namespace ferry {

class StreamRendezvous {
 public:
  // Registers a session expecting `extra` more streams; returns its id.
  base::Result<SessionId> open(size_t extra);
  // Whether `join` names an open session and a free stream index (checked
  // before the joiner is told ACCEPT; offer() checks again).
  bool expects(const Join& join);
  // Hands over a joining stream. Fails for unknown sessions, bad or repeated
  // indexes; the caller then closes the connection.
  base::Status offer(const Join& join, std::unique_ptr<Channel> channel);
  // Waits until every extra stream joined (ordered by index), or fails after
  // `timeout`. The session is closed either way.
  base::Result<std::vector<std::unique_ptr<Channel>>> wait(const SessionId& id,
                                                           std::chrono::milliseconds timeout);

 private:
  struct Session {
    std::vector<std::unique_ptr<Channel>> streams;  // index-1 -> channel
    size_t joined = 0;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<SessionId, Session> sessions_;
};

}  // namespace ferry
