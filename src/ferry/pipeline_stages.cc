#include "ferry/pipeline_stages.h"

#include <algorithm>

namespace ferry {

const std::array<PipeStageInfo, kPipeStages> kPipeline = {{
    {PipeStage::kSource, "source", "source", "src", "source-read"},
    {PipeStage::kSender, "sender", "sending ferry", "ferry", "sender-cpu"},
    {PipeStage::kSendBuffer, "send-buffer", "send buffer", "sndq", "send-buffer"},
    {PipeStage::kNetwork, "network", "network", "net", "network"},
    {PipeStage::kReceiveBuffer, "receive-buffer", "receive buffer", "rcvq", "receive-window"},
    {PipeStage::kReceiver, "receiver", "receiving ferry", "ferry", "receiver-cpu"},
    {PipeStage::kSink, "sink", "sink", "sink", "sink-write"},
}};

const PipeStageInfo& stage_info(PipeStage s) {
  return kPipeline[static_cast<size_t>(s)];
}

std::optional<PipeStage> stage_of_limit(std::string_view limit) {
  for (const auto& st : kPipeline)
    if (limit == st.limit) return st.stage;
  return std::nullopt;
}

namespace {

double ratio(double part, double whole) {
  return whole > 0 ? std::clamp(part / whole, 0.0, 1.0) : 0.0;
}

}  // namespace

double send_queue_fill(const Sample& s) {
  return ratio(s.tcp.outq, s.tcp.sndbuf);
}

double receive_queue_fill(const Sample& r) {
  return ratio(r.tcp.inq, r.tcp.rcvbuf);
}

double cpu_starved(const Sample& s) {
  return std::max(s.cpu_wait, s.cpu_throttled);
}

double network_limited(const Sample& s) {
  return std::clamp(s.tcp_busy - s.tcp_rwnd_limited - s.tcp_sndbuf_limited, 0.0, 1.0);
}

std::optional<double> stage_share(PipeStage st, const std::optional<Sample>& snd,
                                  const std::optional<Sample>& rcv) {
  bool sending_side = st <= PipeStage::kNetwork;
  const std::optional<Sample>& s = sending_side ? snd : rcv;
  if (!s) return std::nullopt;
  switch (st) {
    case PipeStage::kSource:
      return std::clamp(s->source_read, 0.0, 1.0);
    case PipeStage::kSender:
    case PipeStage::kReceiver:
      return std::clamp(s->cpu_run, 0.0, 1.0);
    case PipeStage::kSendBuffer:
      return send_queue_fill(*s);
    case PipeStage::kNetwork:
      return network_limited(*s);
    case PipeStage::kReceiveBuffer:
      return receive_queue_fill(*s);
    case PipeStage::kSink:
      return std::clamp(s->sink_write, 0.0, 1.0);
  }
  return std::nullopt;
}

}  // namespace ferry
