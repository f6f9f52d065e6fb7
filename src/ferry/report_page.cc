#include "ferry/report_page.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "ferry/diagnosis.h"
#include "ferry/pipeline_stages.h"
#include "ferry/pipeline_svg.h"
#include "ferry/report_style.h"

namespace ferry {
namespace {

struct Point {
  double t;
  double v;
};
struct Series {
  std::string name;
  std::string color;
  std::vector<Point> points;
};
struct Band {
  double t0, t1;
  std::string verdict;
};

// One chart: series as polylines over [0, t_max], verdict bands behind them.
std::string chart(const std::string& title, const std::vector<Series>& series, double t_max,
                  const std::vector<Band>& bands, const std::function<std::string(double)>& label) {
  constexpr double W = 960, H = 190, L = 70, R = 10, T = 26, B = 24;
  double v_max = 0;
  for (const auto& s : series)
    for (const auto& p : s.points) v_max = std::max(v_max, p.v);
  if (v_max <= 0) v_max = 1;
  v_max *= 1.1;
  auto x = [&](double t) { return L + (W - L - R) * (t_max > 0 ? t / t_max : 0); };
  auto y = [&](double v) { return T + (H - T - B) * (1 - v / v_max); };
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n", W,
      H, W, H, html_escape(title));
  for (const auto& b : bands)
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>\n",
                       x(b.t0), T, std::max(0.5, x(b.t1) - x(b.t0)), H - T - B,
                       verdict_color(b.verdict));
  for (int i = 0; i <= 4; ++i) {
    double v = v_max * i / 4;
    svg += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#0002\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
        L, W - R, y(v), y(v), L - 4, y(v) + 4, html_escape(label(v)));
  }
  for (int i = 0; i <= 5; ++i) {
    double t = t_max * i / 5;
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{:.1f}s</text>\n",
        x(t), H - 6, t);
  }
  svg += fmt::format("<text x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>\n", L,
                     html_escape(title));
  double legend_x = L + 24 + 8.6 * static_cast<double>(title.size());
  for (const auto& s : series) {
    std::string pts;
    for (const auto& p : s.points) pts += fmt::format("{:.1f},{:.1f} ", x(p.t), y(p.v));
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                       pts, s.color);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"7\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1f}\" "
        "y=\"17\" font-size=\"12\">{}</text>\n",
        legend_x, s.color, legend_x + 16, html_escape(s.name));
    legend_x += 34 + 7.4 * static_cast<double>(s.name.size());
  }
  return svg + "</svg>\n";
}

}  // namespace

base::Result<std::string> render_report_page(const std::string& text, const std::string& name) {
  std::vector<Sample> senders, receivers;
  std::vector<Band> bands;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  double t_max = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    auto s = Sample::from_json(j);
    if (!s) return base::fail(std::move(s).error().context(fmt::format("{}:{}", name, n)));
    t_max = std::max(t_max, s->t);
    (s->role == "sender" ? senders : receivers).push_back(*s);
    if (j.contains("verdict") && j["verdict"].is_string())
      bands.push_back({s->t - s->interval, s->t, j["verdict"].get<std::string>()});
  }
  if (senders.empty() && receivers.empty())
    return base::fail_msg(fmt::format("{}: no samples (is it a ferry --trace file?)", name));
  // Peer samples are timed by the peer's clock; both start at the transfer's
  // start, so they share the axis to within a round trip.
  SampleAverage snd_avg, rcv_avg;
  for (const auto& s : senders) snd_avg.add(s);
  for (const auto& s : receivers) rcv_avg.add(s);
  Verdict overall = judge(snd_avg.average(), rcv_avg.average());

  auto series = [](const std::vector<Sample>& v, const std::string& nm, const std::string& color,
                   const std::function<double(const Sample&)>& f) {
    Series s{nm, color, {}};
    for (const auto& x : v) s.points.push_back({x.t, f(x)});
    return s;
  };
  auto mbps = [](double v) { return base::units::rate(v); };
  auto bytes = [](double v) { return base::units::bytes(static_cast<uint64_t>(v)); };
  auto pct = [](double v) { return fmt::format("{:.0f}%", v * 100); };
  auto count = [](double v) { return fmt::format("{:.0f}", v); };

  std::string body;
  body +=
      chart("Throughput",
            {series(senders, "sender", "#1d3557", [](const Sample& s) { return s.rate(); }),
             series(receivers, "receiver", "#e63946", [](const Sample& s) { return s.rate(); })},
            t_max, bands, mbps);
  body += chart("Congestion window (segments)",
                {series(senders, "cwnd", "#1d3557",
                        [](const Sample& s) { return static_cast<double>(s.tcp.snd_cwnd); })},
                t_max, bands, count);
  body += chart("Windows and queues",
                {series(senders, "peer's window", "#457b9d",
                        [](const Sample& s) { return static_cast<double>(s.tcp.snd_wnd); }),
                 series(senders, "send queue", "#1d3557",
                        [](const Sample& s) { return static_cast<double>(s.tcp.outq); }),
                 series(receivers, "receive queue", "#e63946",
                        [](const Sample& s) { return static_cast<double>(s.tcp.inq); }),
                 series(receivers, "receiving ferry's buffer", "#f4a261",
                        [](const Sample& s) { return static_cast<double>(s.app_buffered); })},
                t_max, bands, bytes);
  body += chart("Time waited (off a CPU)",
                {series(senders, "sender for source", "#2a9d8f",
                        [](const Sample& s) { return s.source_read; }),
                 series(senders, "sender on socket", "#1d3557",
                        [](const Sample& s) { return s.socket_send; }),
                 series(receivers, "receiver for data", "#457b9d",
                        [](const Sample& s) { return s.socket_recv; }),
                 series(receivers, "receiver for sink", "#e76f51",
                        [](const Sample& s) { return s.sink_write; })},
                t_max, bands, pct);
  body += chart(
      "CPU: busiest thread",
      {series(senders, "sender ran", "#1d3557", [](const Sample& s) { return s.cpu_run; }),
       series(senders, "sender kept from it", "#8ecae6", cpu_starved),
       series(receivers, "receiver ran", "#e63946", [](const Sample& s) { return s.cpu_run; }),
       series(receivers, "receiver kept from it", "#f4a261", cpu_starved)},
      t_max, bands, pct);

  std::string legend;
  for (const char* v : kLimits)
    legend +=
        fmt::format("<span class=\"chip\" style=\"background:{}\">{}</span>", verdict_color(v), v);
  return fmt::format(
      R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>ferry report: {name}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #222; max-width: 1000px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
h2 {{ font-size: 16px; margin: 18px 0 4px; }}
.verdict {{ font-size: 18px; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }}
.chip {{ display: inline-block; padding: 2px 8px; margin: 2px; border-radius: 4px; font-size: 12px; }}
svg {{ display: block; margin: 10px 0; background: #fff; }}
.muted {{ color: #666; }}
</style></head><body>
<h1>ferry transfer report</h1>
<div class="muted">{name}: {nsnd} sender and {nrcv} receiver samples over {secs:.1f} s</div>
<div class="verdict" style="background:{color}"><b>limit: {limit}</b> — {evidence}<br><span class="muted">advice: {advice}</span></div>
<h2>The pipeline</h2>
<div class="muted">Each box is one stage, in the order the bytes pass them, over the whole transfer. Bars: orange, time the program waited for the source or the sink; green, a program's busiest thread on a CPU (red: kept from one, queued or throttled); blue, how full a socket queue was. Sparklines: the same over time. The stage the verdict names has the red border: the queues before it fill up, those after it run dry.</div>
{pipeline}
<h2>Over time</h2>
<div>Background shading: the verdict of each interval. {legend}</div>
{body}
</body></html>
)",
      fmt::arg("name", html_escape(name)), fmt::arg("nsnd", senders.size()),
      fmt::arg("nrcv", receivers.size()), fmt::arg("secs", t_max),
      fmt::arg("color", verdict_color(overall.limit)), fmt::arg("limit", overall.limit),
      fmt::arg("evidence", html_escape(overall.evidence)),
      fmt::arg("advice", html_escape(overall.advice)), fmt::arg("legend", legend),
      fmt::arg("body", body),
      fmt::arg("pipeline", pipeline_svg(senders, receivers, overall.limit)));
}

}  // namespace ferry
