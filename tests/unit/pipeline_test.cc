// The pipeline pictures: the live line (pipeline_line.h) and the report's
// diagram (pipeline_svg.h), from hand-made samples of known cases.
#include <gtest/gtest.h>

#include <string>

#include "ferry/pipeline_line.h"
#include "ferry/pipeline_stages.h"
#include "ferry/pipeline_svg.h"

namespace ferry {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A download into a slow pipe, as the induced sink-write case measures it:
// the sender's queue full, the window closed, the receiving ferry holding a
// backlog of its own and waiting for its sink nearly all the time.
Sample sink_write_sender() {
  Sample s;
  s.role = "sender";
  s.t = 1.0;
  s.interval = 0.2;
  s.bytes = 1'600'000;
  s.socket_send = 0.95;
  s.tcp_busy = 0.97;
  s.tcp_rwnd_limited = 0.9;
  s.cpu_run = 0.03;
  s.tcp.outq = 3'774'874;  // 90% of 4 MiB
  s.tcp.sndbuf = 4 << 20;
  s.tcp.snd_wnd = 0;
  s.tcp.rtt_us = 17'252;
  return s;
}

Sample sink_write_receiver() {
  Sample r;
  r.role = "receiver";
  r.t = 1.0;
  r.interval = 0.2;
  r.bytes = 1'600'000;
  r.sink_write = 0.99;
  r.socket_recv = 0.0;
  r.cpu_run = 0.02;
  r.tcp.inq = 0;
  r.tcp.rcvbuf = 2 << 20;
  r.app_buffered = 8 << 20;
  return r;
}

TEST(PipelineLine, ShowsEveryStageInOrderAndBracketsTheLimit) {
  std::string line = pipeline_line(sink_write_sender(), sink_write_receiver(), "sink-write");
  EXPECT_EQ(line,
            "src 0% ▸ ferry 3% ▸ sndq 90% ▸ net 7% rtt 17 ms ▸ rcvq 0% win 0 B ▸ "
            "ferry 2% buf 8.00 MiB ▸ [sink 99%]");
}

TEST(PipelineLine, EachVerdictBracketsItsOwnStage) {
  for (const auto& st : kPipeline) {
    std::string line = pipeline_line(sink_write_sender(), sink_write_receiver(), st.limit);
    EXPECT_EQ(count(line, "["), 1u) << line;
    EXPECT_EQ(count(line, "]"), 1u) << line;
    // The bracket opens right after the arrow that leads into the stage.
    size_t arrows_before = count(line.substr(0, line.find('[')), "▸");
    EXPECT_EQ(arrows_before, static_cast<size_t>(st.stage)) << st.limit << ": " << line;
    EXPECT_EQ(line.compare(line.find('[') + 1, std::string(st.tag).size(), st.tag), 0) << line;
  }
  std::string balanced = pipeline_line(sink_write_sender(), sink_write_receiver(), "balanced");
  EXPECT_EQ(balanced.find('['), std::string::npos) << balanced;
}

TEST(PipelineLine, AMissingSideShowsItsStagesByNameOnly) {
  std::string early = pipeline_line(sink_write_sender(), std::nullopt, "balanced");
  EXPECT_EQ(early, "src 0% ▸ ferry 3% ▸ sndq 90% ▸ net 7% rtt 17 ms ▸ rcvq ▸ ferry ▸ sink");
  std::string none = pipeline_line(std::nullopt, std::nullopt, "network");
  EXPECT_EQ(none, "src ▸ ferry ▸ sndq ▸ [net] ▸ rcvq ▸ ferry ▸ sink");
}

TEST(PipelineLine, AProgramKeptFromACpuSaysWhy) {
  Sample s = sink_write_sender(), r = sink_write_receiver();
  s.cpu_run = 0.4;
  s.cpu_wait = 0.55;
  r.cpu_run = 0.1;
  r.cpu_throttled = 0.8;
  r.cpu_wait = 0.1;
  std::string line = pipeline_line(s, r, "receiver-cpu");
  EXPECT_NE(line.find("ferry 40% wait 55% ▸"), std::string::npos) << line;
  EXPECT_NE(line.find("[ferry 10% throttled 80% buf 8.00 MiB]"), std::string::npos) << line;
}

TEST(PipelineLine, NeverWiderThanAsked) {
  Sample s = sink_write_sender(), r = sink_write_receiver();
  s.cpu_wait = 0.5;
  r.cpu_throttled = 0.5;
  std::string full = pipeline_line(s, r, "sink-write");
  EXPECT_LE(text_columns(full), 160u);
  // Too narrow for the details: the shares stay, the details go.
  std::string brief = pipeline_line(s, r, "sink-write", 80);
  EXPECT_EQ(brief, "src 0% ▸ ferry 3% ▸ sndq 90% ▸ net 7% ▸ rcvq 0% ▸ ferry 2% ▸ [sink 99%]");
  // Too narrow even for that: cut on a whole character.
  std::string cut = pipeline_line(s, r, "sink-write", 12);
  EXPECT_EQ(text_columns(cut), 12u);
  EXPECT_EQ(cut, "src 0% ▸ fer");
}

TEST(PipelineLine, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(text_columns("a ▸ b — c"), 9u);
  EXPECT_EQ(cut_to_columns("a ▸ b", 3), "a ▸");
  EXPECT_EQ(cut_to_columns("a ▸ b", 2), "a ");
  EXPECT_EQ(cut_to_columns("ab", 5), "ab");
}

TEST(PipelineStages, EveryVerdictButBalancedNamesOneStage) {
  for (const char* limit : kLimits) {
    auto st = stage_of_limit(limit);
    EXPECT_EQ(st.has_value(), std::string(limit) != "balanced") << limit;
    if (st) {
      EXPECT_STREQ(stage_info(*st).limit, limit);
    }
  }
  EXPECT_FALSE(stage_of_limit("nonsense"));
}

TEST(PipelineSvg, SevenStagesInOrderAndTheLimitMarked) {
  std::string svg = pipeline_svg({sink_write_sender()}, {sink_write_receiver()}, "sink-write");
  EXPECT_EQ(count(svg, "<g class=\"stage"), 7u);
  size_t at = 0;
  for (const auto& st : kPipeline) {
    size_t next = svg.find(std::string("data-stage=\"") + st.id + "\"");
    ASSERT_NE(next, std::string::npos) << st.id;
    EXPECT_GT(next, at) << st.id << " out of order";
    at = next;
  }
  EXPECT_EQ(count(svg, "class=\"stage limit\""), 1u);
  EXPECT_NE(svg.find("<g class=\"stage limit\" data-stage=\"sink\" data-limit=\"sink-write\">"),
            std::string::npos);
  EXPECT_NE(svg.find("limit: sink-write</text>"), std::string::npos);
  EXPECT_NE(svg.find("full 90%"), std::string::npos) << "the send queue's fill";
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

TEST(PipelineSvg, BalancedMarksNoStageAndEmptySidesStillDraw) {
  std::string svg = pipeline_svg({}, {sink_write_receiver()}, "balanced");
  EXPECT_EQ(count(svg, "<g class=\"stage"), 7u);
  EXPECT_EQ(svg.find("class=\"stage limit\""), std::string::npos);
  EXPECT_NE(svg.find("no single stage limits"), std::string::npos);
  EXPECT_NE(svg.find("no samples"), std::string::npos) << "the sender's stages have none";
}

}  // namespace
}  // namespace ferry
