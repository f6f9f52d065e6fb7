#include "berth/build/word_expansion.h"

#include <fmt/format.h>

#include "berth/build/text.h"

namespace berth::build {
namespace {

constexpr int kMaxNesting = 32;
// What one word may expand to: $a$a$a... would otherwise double per line.
constexpr size_t kMaxExpandedBytes = 1 << 20;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_special_parameter(char c) {
  return std::string_view("@*#?-$!0").find(c) != std::string_view::npos;
}

// The words as they form: characters a variable brings in split at
// whitespace; quoted or escaped ones never do.
class WordBuilder {
 public:
  void add_char(char c) {
    if (!is_space(c)) {
      add_raw_char(c);
    } else if (in_word_ && !word_.empty()) {
      words_.push_back(std::move(word_));
      word_.clear();
      in_word_ = false;
    }
  }
  void add_raw_char(char c) {
    word_ += c;
    in_word_ = true;
  }
  void add_string(std::string_view s) {
    for (char c : s) add_char(c);
  }
  void add_raw_string(std::string_view s) {
    word_ += s;
    in_word_ = true;
  }
  std::vector<std::string> finish() {
    if (!word_.empty()) words_.push_back(std::move(word_));
    word_.clear();
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string word_;
  bool in_word_ = false;
};

// One pass over a word: `run` stops at the end, or at `stop` when inside
// ${...}; quotes and substitutions recurse, at most kMaxNesting deep.
class Expander {
 public:
  // `raw`: quotes and escape characters stay in the result (BuildKit's
  // RawQuotes and RawEscapes, for here-document bodies); they still decide
  // what is expanded.
  Expander(std::string_view text, const Variables& vars, char escape, bool raw = false)
      : text_(text), vars_(vars), escape_(escape), raw_(raw) {}

  // Errors are bare ("missing '}'"); expand_word names the word.
  base::Status run(char stop, std::string& result, WordBuilder& words) {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (stop != 0 && c == stop) {
        ++pos_;
        return {};
      }
      if (c == '$') {
        std::string value = TRY(dollar());
        result += value;
        TRY_STATUS(within_limit(result.size()));
        words.add_string(value);
        continue;
      }
      if (c == '\'' || c == '"') {
        std::string quoted = TRY(c == '\'' ? single_quoted() : double_quoted());
        if (raw_) {
          quoted.insert(quoted.begin(), c);
          quoted.push_back(c);
        }
        result += quoted;
        TRY_STATUS(within_limit(result.size()));
        words.add_raw_string(quoted);
        continue;
      }
      ++pos_;
      if (c == escape_) {
        if (pos_ == text_.size()) {  // an escape at the very end is dropped (kept raw)
          if (raw_) result += c;
          break;
        }
        if (raw_) result += c;
        c = text_[pos_++];
        words.add_raw_char(c);
      } else {
        words.add_char(c);
      }
      result += c;
    }
    if (stop != 0) return base::fail_msg("missing '}'");
    return {};
  }

 private:
  static base::Status within_limit(size_t size) {
    if (size > kMaxExpandedBytes) return base::fail_msg("expands to more than 1 MiB");
    return {};
  }

  base::Result<std::string> single_quoted() {
    size_t end = text_.find('\'', pos_ + 1);
    if (end == std::string_view::npos) return base::fail_msg("unterminated single quote");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }

  base::Result<std::string> double_quoted() {
    std::string s;
    ++pos_;
    while (true) {
      if (pos_ == text_.size()) return base::fail_msg("unterminated double quote");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return s;
      }
      if (c == '$') {
        s += TRY(dollar());
        TRY_STATUS(within_limit(s.size()));
        continue;
      }
      ++pos_;
      if (c == escape_ && pos_ < text_.size()) {
        char next = text_[pos_];
        // Only these are escaped inside double quotes; before anything else
        // the escape character stays, as in sh.
        if (next == '"' || next == '$' || next == escape_) {
          if (raw_) s += c;
          c = next;
          ++pos_;
        }
      } else if (c == escape_) {
        continue;  // at the end: dropped, and the quote is unterminated
      }
      s += c;
    }
  }

  std::string name() {
    size_t start = pos_;
    if (pos_ < text_.size() && is_digit(text_[pos_])) {
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    } else if (pos_ < text_.size() && is_special_parameter(text_[pos_])) {
      ++pos_;
    } else {
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  const std::string* lookup(const std::string& name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &it->second;
  }

  base::Result<std::string> dollar() {
    ++pos_;  // the '$'
    if (pos_ == text_.size() || text_[pos_] != '{') {
      std::string n = name();
      if (n.empty()) return std::string("$");
      const std::string* value = lookup(n);
      return value ? *value : std::string();
    }
    ++pos_;  // the '{'
    if (pos_ == text_.size()) return base::fail_msg("missing '}'");
    if (char c = text_[pos_]; c == '{' || c == '}' || c == ':')
      return base::fail_msg("bad substitution");
    std::string n = name();
    if (pos_ == text_.size()) return base::fail_msg("missing '}'");
    char op = text_[pos_++];
    if (op == '}') {
      const std::string* value = lookup(n);
      return value ? *value : std::string();
    }
    bool empty_is_unset = false;
    if (op == ':') {
      if (pos_ == text_.size()) return base::fail_msg("missing '}'");
      empty_is_unset = true;
      op = text_[pos_++];
    }
    if (op == '#' || op == '%' || op == '/')
      return base::fail_msg(
          fmt::format("${{{}{}...}}: pattern substitution is in Docker's pre-release syntax only; "
                      "berth does not support it",
                      n, empty_is_unset ? fmt::format(":{}", op) : std::string(1, op)));
    if (op != '-' && op != '+' && op != '?')
      return base::fail_msg(fmt::format("unsupported modifier '{}{}' in ${{{}...}}",
                                        empty_is_unset ? ":" : "", op, n));
    if (++depth_ > kMaxNesting)
      return base::fail_msg(fmt::format("substitutions nested more than {} deep", kMaxNesting));
    std::string word;
    WordBuilder ignored;
    TRY_STATUS(run('}', word, ignored));
    --depth_;

    const std::string* value = lookup(n);
    bool absent = value == nullptr || (empty_is_unset && value->empty());
    switch (op) {
      case '-':
        return absent ? word : *value;
      case '+':
        return absent ? std::string() : word;
      default:  // '?'
        if (!absent) return *value;
        if (!word.empty()) return base::fail_msg(fmt::format("{}: {}", n, word));
        return base::fail_msg(
            fmt::format("{}: is not allowed to be {}", n, value == nullptr ? "unset" : "empty"));
    }
  }

  std::string_view text_;
  const Variables& vars_;
  char escape_;
  bool raw_ = false;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::vector<std::string> split_words(std::string_view text, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool blank_ok = false;  // a quote was seen: "" is a word
  char quote = 0;         // the open quote, or 0
  for (size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (quote == 0 && is_space(c)) {
      if (in_word && (blank_ok || !word.empty())) words.push_back(std::move(word));
      word.clear();
      in_word = blank_ok = false;
      continue;
    }
    in_word = true;
    bool escapes = c == escape && quote != '\'';
    if (escapes) {
      if (pos + 1 == text.size()) {
        quote = 0;  // a trailing escape is dropped
        continue;
      }
      word += c;
      c = text[++pos];
    } else if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      blank_ok = true;
    } else if (quote != 0 && c == quote) {
      quote = 0;
    }
    word += c;
  }
  if (in_word && (blank_ok || !word.empty())) words.push_back(std::move(word));
  return words;
}

base::Result<std::vector<KeyValue>> split_assignments(std::string_view text, char escape,
                                                      std::string_view what) {
  std::vector<std::string> words = split_words(text, escape);
  if (words.empty()) return base::fail_msg(fmt::format("{} requires at least one argument", what));
  std::vector<KeyValue> pairs;
  if (words[0].find('=') == std::string::npos) {
    // The old form: the first run of whitespace separates key and value.
    size_t end = 0;
    while (end < text.size() && !is_space(text[end])) ++end;
    size_t value = end;
    while (value < text.size() && is_space(text[value])) ++value;
    if (value == text.size())
      return base::fail_msg(fmt::format("{} {} needs a value ({} key=value)", what,
                                        shown(text.substr(0, end)), what));
    pairs.push_back({std::string(text.substr(0, end)), std::string(text.substr(value)), true});
    return pairs;
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos)
      return base::fail_msg(fmt::format("{}: {} is not of the form key=value", what, shown(w)));
    if (eq == 0) return base::fail_msg(fmt::format("{}: {} has an empty key", what, shown(w)));
    pairs.push_back({w.substr(0, eq), w.substr(eq + 1), true});
  }
  return pairs;
}

base::Result<std::vector<KeyValue>> split_arg_declarations(std::string_view text, char escape) {
  std::vector<std::string> words = split_words(text, escape);
  if (words.empty()) return base::fail_msg("ARG requires at least one argument");
  std::vector<KeyValue> args;
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == 0) return base::fail_msg(fmt::format("ARG: {} has an empty name", shown(w)));
    if (eq == std::string::npos)
      args.push_back({w, "", false});
    else
      args.push_back({w.substr(0, eq), w.substr(eq + 1), true});
  }
  return args;
}

base::Result<std::string> expand_word(std::string_view word, const Variables& vars, char escape) {
  std::string result;
  WordBuilder words;
  Expander e(word, vars, escape);
  if (auto done = e.run(0, result, words); !done)
    return base::fail(std::move(done).error().context(shown(word)));
  return result;
}

base::Result<std::string> expand_heredoc(std::string_view body, const Variables& vars,
                                         char escape) {
  std::string result;
  WordBuilder words;
  Expander e(body, vars, escape, true);
  if (auto done = e.run(0, result, words); !done)
    return base::fail(std::move(done).error().context("here-document"));
  return result;
}

base::Result<std::vector<std::string>> expand_words(std::string_view text, const Variables& vars,
                                                    char escape) {
  std::string result;
  WordBuilder words;
  Expander e(text, vars, escape);
  if (auto done = e.run(0, result, words); !done)
    return base::fail(std::move(done).error().context(shown(text)));
  return words.finish();
}

}  // namespace berth::build
