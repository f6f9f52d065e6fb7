#include "berth/output_template.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "berth/go_text.h"

namespace berth {
namespace {

// "\t" and "\n" as typed on a command line become the characters.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      out += s[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

base::Result<OutputTemplate> OutputTemplate::parse(
    std::string_view format, const std::map<std::string, std::string>& headers) {
  OutputTemplate t;
  if (format.rfind("table", 0) == 0 &&
      (format.size() == 5 || std::isspace(static_cast<unsigned char>(format[5])))) {
    t.table_ = true;
    format.remove_prefix(std::min<size_t>(format.size(), 6));
  }
  t.template_ = TRY(GoTemplate::parse(unescape(format)));
  if (t.table_) t.header_ = t.template_.header(headers);
  return t;
}

base::Result<std::string> OutputTemplate::render(const std::vector<nlohmann::json>& rows) const {
  std::string out;
  if (table_) out += header_ + "\n";
  for (const auto& row : rows) out += TRY(template_.execute(row)) + "\n";
  return table_ ? align_columns(out) : out;
}

std::string align_columns(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      cells.push_back(line.substr(start, tab - start));
    cells.push_back(line.substr(start));
    lines.push_back(std::move(cells));
  }
  std::vector<size_t> width;
  for (const auto& cells : lines)
    for (size_t c = 0; c + 1 < cells.size(); ++c) {
      if (width.size() <= c) width.resize(c + 1, 0);
      // docker's tabwriter: a column is its widest cell and 3 spaces, at least 10.
      width[c] = std::max({width[c], text_width(cells[c]) + 3, size_t{10}});
    }
  std::string out;
  for (const auto& cells : lines) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - text_width(cells[c]), ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace berth
