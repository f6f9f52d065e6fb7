#include "ferry/rendezvous.h"

#include <fmt/format.h>

#include "ferry/auth.h"

namespace ferry {

base::Result<SessionId> StreamRendezvous::open(size_t extra) {
  auto nonce = TRY(auth::make_nonce());
  SessionId id{};
  std::copy_n(nonce.begin(), id.size(), id.begin());
  std::lock_guard lock(mu_);
  sessions_[id].streams.resize(extra);
  return id;
}

bool StreamRendezvous::expects(const Join& join) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(join.session);
  if (it == sessions_.end()) return false;
  const auto& slots = it->second.streams;
  return join.index >= 1 && join.index <= slots.size() && !slots[join.index - 1];
}

base::Status StreamRendezvous::offer(const Join& join, std::unique_ptr<Channel> channel) {
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(join.session);
    if (it == sessions_.end()) return base::fail_msg("JOIN names no open transfer");
    auto& slots = it->second.streams;
    if (join.index < 1 || join.index > slots.size() || slots[join.index - 1])
      return base::fail_msg("JOIN with a stream index that is out of range or taken");
    slots[join.index - 1] = std::move(channel);
    it->second.joined++;
  }
  cv_.notify_all();
  return {};
}

base::Result<std::vector<std::unique_ptr<Channel>>> StreamRendezvous::wait(
    const SessionId& id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return base::fail_msg("unknown session");
  bool full =
      cv_.wait_for(lock, timeout, [&] { return it->second.joined == it->second.streams.size(); });
  auto streams = std::move(it->second.streams);
  size_t joined = it->second.joined;
  sessions_.erase(it);
  if (!full)
    return base::fail_msg(
        fmt::format("only {} of {} extra streams joined in time", joined, streams.size()));
  return streams;
}

}  // namespace ferry
