// `ferry report`: a trace from a real transfer becomes a page that headless
// Chromium opens without errors and can screenshot; bad traces are refused
// with one line and leave no page behind.
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

  std::string browser = chromium();
  ASSERT_FALSE(browser.empty())
      << "chromium is not installed (scripts/install-deps.sh installs it)";
  Process shot({browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + (t / "profile"), "--enable-logging=stderr",
                "--window-size=1050,1150", "--screenshot=" + (t / "report.png"),
                "file://" + (t / "report.html")});
  auto s = shot.wait();
  EXPECT_EQ(s.exit_code, 0) << s.err;
  std::string png = read_file(t / "report.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(s.err.find("Uncaught"), std::string::npos) << s.err;
  EXPECT_EQ(s.err.find(":CONSOLE"), std::string::npos) << s.err;
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
