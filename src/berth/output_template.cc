#include "berth/output_template.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

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

// Splits an action into commands (on '|') of words; "quoted strings" are one word.
base::Result<std::vector<std::vector<std::string>>> split_action(const std::string& action) {
  std::vector<std::vector<std::string>> pipe(1);
  size_t i = 0;
  while (i < action.size()) {
    char c = action[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '|') {
      pipe.emplace_back();
      ++i;
    } else if (c == '"') {
      size_t end = action.find('"', i + 1);
      if (end == std::string::npos)
        return base::fail_msg(fmt::format("--format: {{{{{}}}}}: unclosed string", action));
      pipe.back().push_back(action.substr(i, end - i + 1));
      i = end + 1;
    } else {
      size_t end = i;
      while (end < action.size() && !std::isspace(static_cast<unsigned char>(action[end])) &&
             action[end] != '|')
        ++end;
      pipe.back().push_back(action.substr(i, end - i));
      i = end;
    }
  }
  for (const auto& command : pipe)
    if (command.empty())
      return base::fail_msg(fmt::format("--format: {{{{{}}}}}: empty command", action));
  return pipe;
}

// Go's %v of a value: strings bare, lists as [a b], maps as map[k:v].
std::string plain(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<no value>";
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + plain(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (const auto& [k, item] : v.items()) {
      out += (first ? "" : " ") + k + ":" + plain(item);
      first = false;
    }
    return out + "]";
  }
  return v.dump();
}

base::Result<nlohmann::json> field(const nlohmann::json& root, const std::string& path,
                                   const std::string& action) {
  if (path == ".") return root;
  const nlohmann::json* at = &root;
  size_t i = 1;
  while (i <= path.size()) {
    size_t end = path.find('.', i);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(i, end - i);
    if (name.empty() || !at->is_object() || !at->contains(name))
      return base::fail_msg(fmt::format("--format: {{{{{}}}}}: no field '{}'", action, name));
    at = &(*at)[name];
    i = end + 1;
  }
  return *at;
}

// One argument: a field, or a "string".
base::Result<nlohmann::json> argument(const nlohmann::json& root, const std::string& word,
                                      const std::string& action) {
  if (word.front() == '.') return field(root, word, action);
  if (word.front() == '"') return nlohmann::json(word.substr(1, word.size() - 2));
  return base::fail_msg(
      fmt::format("--format: {{{{{}}}}}: '{}' is not a field or a string", action, word));
}

// Runs one command; `piped` is the previous command's result, if any.
base::Result<nlohmann::json> run_command(const nlohmann::json& root,
                                         const std::vector<std::string>& words,
                                         const nlohmann::json* piped, const std::string& action) {
  const std::string& name = words.front();
  std::vector<nlohmann::json> args;
  for (size_t i = name.front() == '.' || name.front() == '"' ? 0 : 1; i < words.size(); ++i)
    args.push_back(TRY(argument(root, words[i], action)));
  if (piped) args.push_back(*piped);
  if (name.front() == '.' || name.front() == '"') {
    if (args.size() != 1)
      return base::fail_msg(
          fmt::format("--format: {{{{{}}}}}: '{}' takes no arguments", action, name));
    return args.front();
  }
  auto want = [&](size_t n) -> base::Status {
    if (args.size() == n) return {};
    return base::fail_msg(fmt::format("--format: {{{{{}}}}}: {} takes {} argument{}", action, name,
                                      n, n == 1 ? "" : "s"));
  };
  if (name == "json") {
    TRY_STATUS(want(1));
    return nlohmann::json(args[0].dump());
  }
  if (name == "upper" || name == "lower") {
    TRY_STATUS(want(1));
    std::string s = plain(args[0]);
    for (auto& c : s)
      c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                            : std::tolower(static_cast<unsigned char>(c)));
    return nlohmann::json(s);
  }
  if (name == "len") {
    TRY_STATUS(want(1));
    if (args[0].is_string()) return nlohmann::json(args[0].get<std::string>().size());
    if (args[0].is_array() || args[0].is_object()) return nlohmann::json(args[0].size());
    return base::fail_msg(
        fmt::format("--format: {{{{{}}}}}: len of a {}", action, args[0].type_name()));
  }
  if (name == "join") {
    TRY_STATUS(want(2));
    if (!args[0].is_array() || !args[1].is_string())
      return base::fail_msg(
          fmt::format("--format: {{{{{}}}}}: join takes a list and a string", action));
    std::string out;
    for (size_t i = 0; i < args[0].size(); ++i)
      out += (i ? args[1].get<std::string>() : "") + plain(args[0][i]);
    return nlohmann::json(out);
  }
  return base::fail_msg(fmt::format("--format: {{{{{}}}}}: unknown function '{}'", action, name));
}

base::Result<std::string> render_row(const std::vector<OutputTemplate::Piece>& pieces,
                                     const nlohmann::json& row) {
  std::string out;
  for (const auto& p : pieces) {
    if (!p.is_action) {
      out += p.text;
      continue;
    }
    nlohmann::json value;
    bool have = false;
    for (const auto& command : p.pipe) {
      value = TRY(run_command(row, command, have ? &value : nullptr, p.text));
      have = true;
    }
    out += plain(value);
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
  std::string text = unescape(format);
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) open = text.size();
    if (open > i) t.pieces_.push_back({false, text.substr(i, open - i), {}});
    if (open == text.size()) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos)
      return base::fail_msg(
          fmt::format("--format: unclosed action at '{}'", text.substr(open, 20)));
    Piece p{true, text.substr(open + 2, close - open - 2), {}};
    p.pipe = TRY(split_action(p.text));
    t.pieces_.push_back(std::move(p));
    i = close + 2;
  }
  if (t.table_) {  // the header: every field action's column name, the text kept
    for (const auto& p : t.pieces_) {
      if (!p.is_action) {
        t.header_ += p.text;
        continue;
      }
      std::string name;
      for (const auto& w : p.pipe.front())
        if (w.size() > 1 && w.front() == '.') name = w.substr(1);
      auto known = headers.find(name);
      if (known != headers.end()) {
        t.header_ += known->second;
      } else {
        for (char c : name) t.header_ += static_cast<char>(std::toupper(c));
      }
    }
  }
  return t;
}

base::Result<std::string> OutputTemplate::render(const std::vector<nlohmann::json>& rows) const {
  std::string out;
  if (table_) out += header_ + "\n";
  for (const auto& row : rows) out += TRY(render_row(pieces_, row)) + "\n";
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
      width[c] = std::max(width[c], cells[c].size());
    }
  std::string out;
  for (const auto& cells : lines) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 3, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace berth
