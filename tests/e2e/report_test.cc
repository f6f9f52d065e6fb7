// `ferry report`: a trace from a real transfer becomes a page that headless
// Chromium opens without errors and can screenshot, and whose pipeline
// diagram, as the browser parsed it, has the seven stages in order with the
// verdict's stage marked; bad traces are refused with one line and leave no
// page behind.
#include <sys/stat.h>

#include <fmt/format.h>

#include "tests/e2e/harness.h"

namespace e2e {
namespace {

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// Headless Chromium on `page` with `what` (--screenshot=FILE, --dump-dom).
ProcResult run_chromium(const TempDir& t, const std::string& page,
                        const std::vector<std::string>& what) {
  std::string browser = chromium();
  if (browser.empty()) {
    ADD_FAILURE() << "chromium is not installed (scripts/install-deps.sh installs it)";
    return {};
  }
  std::vector<std::string> argv = {browser,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + (t / "profile"),
                                   "--enable-logging=stderr",
                                   "--window-size=1050,1150"};
  argv.insert(argv.end(), what.begin(), what.end());
  argv.push_back("file://" + page);
  return Process(argv).wait();
}

// The text from `open` to the first `close` after it ("" when absent).
std::string between(const std::string& text, const std::string& open, const std::string& close) {
  size_t a = text.find(open);
  if (a == std::string::npos) return "";
  size_t b = text.find(close, a);
  return b == std::string::npos ? "" : text.substr(a, b - a + close.size());
}

TEST(Report, SinkWriteTraceRendersAndOpensInChromium) {
  TempDir t;
  mkdir((t / "srv").c_str(), 0755);
  ASSERT_EQ(Process({gen_tree_bin(), "file", t / "srv/data", "24M"}).wait().exit_code, 0);
  FerryServer server(t / "srv");
  // A real sink-write transfer: the receiver's output is read at 8 MB/s.
  Process cp({"/bin/sh", "-c",
              fmt::format("{} cp --json --trace {} {} - 2>/dev/null | pv -q -L 8m >/dev/null",
                          ferry_bin(), t / "trace.jsonl", server.url("data"))},
             {std::string("FERRY_TOKEN=") + kToken});
  ASSERT_EQ(cp.wait().exit_code, 0) << cp.err();

  auto r = ferry({"report", t / "trace.jsonl", "-o", t / "report.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string page = read_file(t / "report.html");
  EXPECT_NE(page.find("limit: sink-write"), std::string::npos);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos) << "the page must not need scripts";
  EXPECT_EQ(page.find("http"), std::string::npos) << "the page must not load anything";

  auto s = run_chromium(t, t / "report.html", {"--screenshot=" + (t / "report.png")});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  std::string png = read_file(t / "report.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(s.err.find("Uncaught"), std::string::npos) << s.err;
  EXPECT_EQ(s.err.find(":CONSOLE"), std::string::npos) << s.err;

  // The pipeline, as Chromium parsed the page: one SVG at the top, before
  // the charts, holding the seven stages in the order the bytes pass them,
  // the sink marked as the limit with the verdict's word.
  auto dom = run_chromium(t, t / "report.html", {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  size_t pipeline_at = dom.out.find("<svg class=\"pipeline\"");
  ASSERT_NE(pipeline_at, std::string::npos) << dom.out;
  EXPECT_LT(pipeline_at, dom.out.find("aria-label=\"Throughput\""))
      << "the pipeline heads the page";
  std::string svg = between(dom.out, "<svg class=\"pipeline\"", "</svg>");
  size_t at = 0, stages = 0;
  for (const char* id :
       {"source", "sender", "send-buffer", "network", "receive-buffer", "receiver", "sink"}) {
    size_t next = svg.find(fmt::format("data-stage=\"{}\"", id), at);
    EXPECT_NE(next, std::string::npos) << id << " missing or out of order in\n" << svg;
    if (next != std::string::npos) at = next;
  }
  for (size_t p = svg.find("<g class=\"stage"); p != std::string::npos;
       p = svg.find("<g class=\"stage", p + 1))
    ++stages;
  EXPECT_EQ(stages, 7u) << svg;
  std::string marked = between(svg, "<g class=\"stage limit\"", "</g>");
  EXPECT_NE(marked.find("data-stage=\"sink\" data-limit=\"sink-write\""), std::string::npos) << svg;
  EXPECT_NE(marked.find("limit: sink-write"), std::string::npos) << marked;
  EXPECT_EQ(svg.find("class=\"stage limit\"", svg.find("class=\"stage limit\"") + 1),
            std::string::npos)
      << "one stage is the limit";
}

TEST(Report, BadTracesAreRefusedAndWriteNothing) {
  TempDir t;
  auto r = ferry({"report", t / "missing.jsonl", "-o", t / "out.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  write_file(t / "bad.jsonl", "{\"role\":\"sender\"}\nnot json\n");
  r = ferry({"report", t / "bad.jsonl", "-o", t / "out.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.jsonl:1"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  write_file(t / "empty.jsonl", "");
  r = ferry({"report", t / "empty.jsonl", "-o", t / "out.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(exists(t / "out.html"));
  EXPECT_FALSE(exists(t / "out.html.ferry-part"));
}

}  // namespace
}  // namespace e2e
