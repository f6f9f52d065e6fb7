#include "berth/build/heredoc.h"

#include <optional>
#include <string>

#include "berth/build/text.h"

namespace berth::build {
namespace {

// Shell words with their quotes and backslashes kept; nullopt when a quote
// does not close (BuildKit's lexer fails then, and no heredoc is found).
std::optional<std::vector<std::string>> raw_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote == 0 && is_space(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += c;
    if (c == '\\' && quote != '\'' && i + 1 < line.size()) {
      word += line[++i];
    } else if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
    } else if (c == quote) {
      quote = 0;
    }
  }
  if (quote != 0) return std::nullopt;
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

struct Delimiter {
  std::string name;
  bool quoted = false;
};

// The delimiter word with quotes removed and backslashes applied; nullopt
// unless it is exactly one non-empty word.
std::optional<Delimiter> unquote(std::string_view text) {
  Delimiter d;
  bool ended = false;  // unquoted whitespace seen: a second word would follow
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_space(c)) {
      ended = !d.name.empty();
      continue;
    }
    if (ended) return std::nullopt;
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      std::string part;
      for (; end < text.size() && text[end] != c; ++end) {
        char q = text[end];
        if (c == '"' && q == '\\' && end + 1 < text.size() &&
            (text[end + 1] == '"' || text[end + 1] == '$' || text[end + 1] == '\\'))
          q = text[++end];
        part += q;
      }
      if (end == text.size()) return std::nullopt;
      d.name += part;
      d.quoted = true;
      i = end;
    } else if (c == '\\') {
      if (i + 1 < text.size()) d.name += text[++i];
    } else {
      d.name += c;
    }
  }
  if (d.name.empty()) return std::nullopt;
  return d;
}

}  // namespace

std::vector<Heredoc> heredoc_openers(std::string_view line) {
  std::vector<Heredoc> docs;
  std::optional<std::vector<std::string>> words = raw_words(line);
  if (!words) return docs;
  for (const std::string& w : *words) {
    size_t i = 0;
    unsigned fd = 0;
    while (i < w.size() && w[i] >= '0' && w[i] <= '9') {
      if (fd < 1000000) fd = fd * 10 + static_cast<unsigned>(w[i] - '0');
      ++i;
    }
    if (w.compare(i, 2, "<<") != 0) continue;
    i += 2;
    bool strip_tabs = i < w.size() && w[i] == '-';
    if (strip_tabs) ++i;
    std::string_view rest = std::string_view(w).substr(i);
    if (rest.empty() || rest.find('<') != std::string_view::npos) continue;
    std::optional<Delimiter> d = unquote(rest);
    if (!d) continue;
    Heredoc doc;
    doc.name = std::move(d->name);
    doc.expand = !d->quoted;
    doc.strip_tabs = strip_tabs;
    doc.fd = fd;
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace berth::build
