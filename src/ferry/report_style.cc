#include "ferry/report_style.h"

#include <map>

namespace ferry {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* verdict_color(std::string_view v) {
  static const std::map<std::string_view, const char*> colors = {
      {"source-read", "#f4d35e"},  {"sender-cpu", "#f7a072"},     {"send-buffer", "#c9ada7"},
      {"network", "#9ad1d4"},      {"receive-window", "#b8b8ff"}, {"sink-write", "#f28482"},
      {"receiver-cpu", "#e5989b"}, {"balanced", "#e9edc9"}};
  auto it = colors.find(v);
  return it == colors.end() ? "#eeeeee" : it->second;
}

}  // namespace ferry
