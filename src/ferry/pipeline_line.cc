#include "ferry/pipeline_line.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "base/units.h"
#include "ferry/pipeline_stages.h"

namespace ferry {
namespace {

constexpr std::string_view kArrow = " \u25B8 ";  // ▸

std::string percent(double share) {
  return fmt::format("{}%", std::lround(std::clamp(share, 0.0, 1.0) * 100));
}

std::string rtt_text(uint32_t us) {
  double ms = us / 1000.0;
  return ms < 10 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.0f} ms", ms);
}

// A program kept from a CPU, when it was for a tenth of the interval or more.
std::string starved_text(const Sample& s) {
  if (cpu_starved(s) < 0.1) return "";
  return s.cpu_throttled >= s.cpu_wait ? " throttled " + percent(s.cpu_throttled)
                                       : " wait " + percent(s.cpu_wait);
}

// What follows a stage's share when there is room.
std::string detail(PipeStage st, const std::optional<Sample>& snd,
                   const std::optional<Sample>& rcv) {
  switch (st) {
    case PipeStage::kSender:
      return snd ? starved_text(*snd) : "";
    case PipeStage::kNetwork:
      return snd && snd->tcp.rtt_us > 0 ? " rtt " + rtt_text(snd->tcp.rtt_us) : "";
    case PipeStage::kReceiveBuffer:
      return rcv && snd ? " win " + base::units::bytes(snd->tcp.snd_wnd) : "";
    case PipeStage::kReceiver:
      if (!rcv) return "";
      return starved_text(*rcv) +
             (rcv->app_buffered > 0 ? " buf " + base::units::bytes(rcv->app_buffered) : "");
    default:
      return "";
  }
}

std::string render(const std::vector<std::string>& parts, std::optional<PipeStage> limit) {
  std::string line;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) line += kArrow;
    bool marked = limit && static_cast<size_t>(*limit) == i;
    line += marked ? "[" + parts[i] + "]" : parts[i];
  }
  return line;
}

}  // namespace

std::string pipeline_line(const std::optional<Sample>& snd, const std::optional<Sample>& rcv,
                          std::string_view limit, size_t width) {
  std::optional<PipeStage> marked = stage_of_limit(limit);
  std::vector<std::string> brief, full;
  for (const auto& st : kPipeline) {
    std::string part = st.tag;
    if (auto share = stage_share(st.stage, snd, rcv)) part += " " + percent(*share);
    brief.push_back(part);
    full.push_back(part + detail(st.stage, snd, rcv));
  }
  std::string line = render(full, marked);
  if (text_columns(line) > width) line = render(brief, marked);
  return cut_to_columns(line, width);
}

size_t text_columns(std::string_view text) {
  size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string cut_to_columns(std::string_view text, size_t width) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (n == width) return std::string(text.substr(0, i));
    ++n;
  }
  return std::string(text);
}

}  // namespace ferry
