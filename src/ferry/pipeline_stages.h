// The pipeline a transfer runs through, as the report's diagram and the live
// pipeline line draw it: seven stages in the order the bytes pass them
// (source, sending ferry, send buffer, network, receive buffer, receiving
// ferry, sink), the verdict word that names each one as the limit, and the
// per-interval measures both pictures show: how full each socket queue is,
// and each stage's headline share of the interval.
// Thread-safety: constant data and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "ferry/diagnosis.h"

namespace ferry {

enum class PipeStage {
  kSource,
  kSender,
  kSendBuffer,
  kNetwork,
  kReceiveBuffer,
  kReceiver,
  kSink,
};
inline constexpr size_t kPipeStages = 7;

struct PipeStageInfo {
  PipeStage stage;
  const char* id;     // stable name for markup: "source", "send-buffer", ...
  const char* title;  // for people: "sending ferry", "receive buffer", ...
  const char* tag;    // the live line's short word: "src", "ferry", "sndq", ...
  const char* limit;  // the verdict (kLimits) that names this stage
};

// In the order the bytes pass them.
extern const std::array<PipeStageInfo, kPipeStages> kPipeline;

const PipeStageInfo& stage_info(PipeStage s);

// The stage a verdict names; nullopt for "balanced" and unknown words.
std::optional<PipeStage> stage_of_limit(std::string_view limit);

// Socket queue fill, 0..1: SIOCOUTQ / SO_SNDBUF of the sender, SIOCINQ /
// SO_RCVBUF of the receiver (the kernel keeps part of SO_RCVBUF for
// overhead, so a full receive queue reads as 50-75%). 0 when the size is 0.
double send_queue_fill(const Sample& sender);
double receive_queue_fill(const Sample& receiver);

// Share of the interval a program's busiest thread wanted a CPU and did not
// get one: queued for it, or held back by a cgroup quota.
double cpu_starved(const Sample& s);

// The network's own share: time the sender's socket had data it could send
// but for the congestion window (TCP busy, less the time the peer's window
// or the send buffer held it back).
double network_limited(const Sample& sender);

// A stage's headline share of the interval, 0..1: the time the sender waited
// for its source or the receiver for its sink, a program's busiest thread's
// time on a CPU, a socket queue's fill, the network's own share. nullopt
// when the sample of the side it belongs to is missing.
std::optional<double> stage_share(PipeStage s, const std::optional<Sample>& sender,
                                  const std::optional<Sample>& receiver);

}  // namespace ferry
