#include "ferry/pipeline_svg.h"

#include <algorithm>

#include <fmt/format.h>

#include "ferry/pipeline_boxes.h"
#include "ferry/pipeline_stages.h"
#include "ferry/report_style.h"

namespace ferry {
namespace {

// Geometry: seven boxes of kBoxW with kGap between them for the arrows.
constexpr double kBoxW = 120, kGap = 20, kLeft = 2, kTop = 30, kBoxH = 210;
constexpr double kWidth = kLeft * 2 + 7 * kBoxW + 6 * kGap, kHeight = kTop + kBoxH + 4;
constexpr const char* kStarvedColor = "#d62828";
constexpr const char* kLimitStroke = "#9d0208";

const char* color_of(ShareKind k) {
  switch (k) {
    case ShareKind::kWait:
      return "#e76f51";
    case ShareKind::kCpu:
      return "#2a9d8f";
    case ShareKind::kQueue:
      return "#457b9d";
    case ShareKind::kNetwork:
      return "#1d3557";
  }
  return "#6c757d";
}

class Drawing {
 public:
  explicit Drawing(double t_max) : t_max_(t_max > 0 ? t_max : 1) {}
  std::string svg;

  void text(double x, double y, double size, const std::string& s, const char* extra = "") {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\"{}>{}</text>\n", x, y, size,
                       extra, html_escape(s));
  }
  void rect(double x, double y, double w, double h, const char* fill, const char* extra = "") {
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"{}/>\n", x,
        y, std::max(0.0, w), std::max(0.0, h), fill, extra);
  }
  // The share from the left, what kept a program from a CPU stacked after it.
  void bar(double x, double y, double w, double h, const StageBar& b) {
    rect(x, y, w, h, "#e9ecef");
    double run = std::clamp(b.share, 0.0, 1.0);
    rect(x, y, w * run, h, color_of(b.kind));
    rect(x + w * run, y, w * std::clamp(b.starved, 0.0, 1.0 - run), h, kStarvedColor);
  }
  // A sparkline over the whole time axis, its caption above it: an area of
  // steps (each sample holds for its interval), and the red line when it
  // rises off the floor.
  void spark(double x, double y, double w, double h, const std::vector<Sample>& v,
             const StageSpark& sp) {
    text(x, y - 3, 9, sp.caption, " fill=\"#495057\"");
    rect(x, y, w, h, "#f1f3f5");
    if (v.empty()) return;
    auto px = [&](double t) { return x + w * std::clamp(t / t_max_, 0.0, 1.0); };
    auto py = [&](double share) { return y + h - h * std::clamp(share, 0.0, 1.0); };
    bool red = sp.red && max_of(v, sp.red) / sp.scale >= 0.05;
    std::string area = fmt::format("{:.1f},{:.1f} ", px(v.front().t - v.front().interval), y + h);
    std::string line;
    for (const auto& s : v) {
      double start = px(s.t - s.interval), end = px(s.t), top = py(sp.value(s) / sp.scale);
      area += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", start, top, end, top);
      if (red) {
        double r = py(sp.red(s) / sp.scale);
        line += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", start, r, end, r);
      }
    }
    area += fmt::format("{:.1f},{:.1f}", px(v.back().t), y + h);
    svg += fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.75\"/>\n", area,
                       color_of(sp.kind));
    if (red)
      svg += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", line,
          kStarvedColor);
  }
  void arrow(double x0, double x1, double y) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#6c757d\" "
        "stroke-width=\"2\"/><polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" "
        "fill=\"#6c757d\"/>\n",
        x0, y, x1 - 6, y, x1, y, x1 - 7, y - 5, x1 - 7, y + 5);
  }

 private:
  double t_max_;
};

double t_max_of(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  double t = 0;
  for (const auto* v : {&a, &b})
    for (const auto& s : *v) t = std::max(t, s.t);
  return t;
}

// "▼ limit: WORD" above box `i`, kept inside the picture at either end.
void limit_label(Drawing& d, size_t i, double x, const std::string& limit) {
  bool first = i == 0, last = i + 1 == kPipeline.size();
  d.svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"{}\" "
      "text-anchor=\"{}\">\u25BC limit: {}</text>\n",
      first  ? x
      : last ? x + kBoxW
             : x + kBoxW / 2,
      kLimitStroke,
      first  ? "start"
      : last ? "end"
             : "middle",
      html_escape(limit));
}

}  // namespace

std::string pipeline_svg(const std::vector<Sample>& snd, const std::vector<Sample>& rcv,
                         const std::string& limit) {
  std::optional<PipeStage> marked = stage_of_limit(limit);
  Drawing d(t_max_of(snd, rcv));
  d.svg = fmt::format(
      "<svg class=\"pipeline\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" "
      "role=\"img\" aria-label=\"the transfer's pipeline, limit: {2}\" data-limit=\"{2}\">\n",
      kWidth, kHeight, html_escape(limit));
  if (!marked)
    d.text(kLeft, 18, 13, "no single stage limits this transfer (" + limit + ")",
           " font-weight=\"bold\" fill=\"#495057\"");
  for (size_t i = 0; i < kPipeline.size(); ++i) {
    const PipeStageInfo& st = kPipeline[i];
    bool is_limit = marked && *marked == st.stage;
    StageBox box = stage_box(st.stage, snd, rcv);
    double x = kLeft + static_cast<double>(i) * (kBoxW + kGap), y = kTop, in = x + 8;
    d.svg += is_limit ? fmt::format("<g class=\"stage limit\" data-stage=\"{}\" data-limit=\"{}\">",
                                    st.id, html_escape(limit))
                      : fmt::format("<g class=\"stage\" data-stage=\"{}\">", st.id);
    d.svg += "<title>" + html_escape(box.tooltip) + "</title>\n";
    if (is_limit) limit_label(d, i, x, limit);
    // The limit: its verdict's colour, light enough for the bars to show.
    d.rect(x, y, kBoxW, kBoxH, is_limit ? verdict_color(limit) : "#f8f9fa",
           is_limit ? " fill-opacity=\"0.45\" stroke=\"#9d0208\" stroke-width=\"3\" rx=\"6\""
                    : " stroke=\"#adb5bd\" stroke-width=\"1\" rx=\"6\"");
    d.text(in, y + 18, 12.5, st.title, " font-weight=\"bold\"");
    d.text(in, y + 36, 12, box.rate);
    d.text(in, y + 54, 11.5, box.headline, " font-weight=\"bold\"");
    if (box.bar) d.bar(in, y + 60, kBoxW - 16, 9, *box.bar);
    for (size_t k = 0; k < box.details.size(); ++k)
      d.text(in, y + 85 + 13 * static_cast<double>(k), 10.5, box.details[k], " fill=\"#495057\"");
    for (size_t k = 0; k < box.sparks.size(); ++k)
      d.spark(in, y + 136 + 42 * static_cast<double>(k), kBoxW - 16, 26, *box.samples,
              box.sparks[k]);
    d.svg += "</g>\n";
    if (i + 1 < kPipeline.size()) d.arrow(x + kBoxW + 2, x + kBoxW + kGap - 2, y + kBoxH / 2);
  }
  return d.svg + "</svg>\n";
}

}  // namespace ferry
