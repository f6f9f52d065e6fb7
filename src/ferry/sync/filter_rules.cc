#include "ferry/sync/filter_rules.h"

#include "base/printable.h"

#include <string>
#include <utility>

#include "base/text_file.h"

namespace ferry::sync {

namespace {

constexpr int kMaxMergeDepth = 8;

// `text` for a one-line message: at most 100 bytes, control bytes escaped.
std::string shown(std::string_view text) {
  std::string out = base::printable(text, 100);
  if (text.size() > 100) out += "...";
  return out;
}

base::Error rule_error(std::string_view rule, std::string_view why) {
  return base::Error::msg("filter rule \"" + shown(rule) + "\": " + std::string(why));
}

// One rule of text, parsed.
struct Parsed {
  enum class Kind { rule, clear, merge, dir_merge };
  Kind kind = Kind::rule;
  FilterRule rule;            // rule; dir_merge
  std::string merge_path;     // merge
  MergeSyntax syntax;         // merge; dir_merge
  bool exclude_self = false;  // 'e' on a merge rule
};

struct LongName {
  std::string_view name;
  char code;
};
constexpr LongName kLongNames[] = {
    {"exclude", '-'}, {"include", '+'}, {"merge", '.'}, {"dir-merge", ':'}, {"hide", 'H'},
    {"show", 'S'},    {"protect", 'P'}, {"risk", 'R'},  {"clear", '!'},
};

std::string_view refused_modifier(char m) {
  switch (m) {
    case '/':
      return "absolute-path matching";
    case 'C':
      return "CVS mode";
    case 'p':
      return "perishable rules";
    case 'x':
      return "xattr-name rules";
    default:
      return {};
  }
}

base::Result<FilterPattern> compile_pattern(std::string_view rule, std::string_view pattern,
                                            std::string_view anchor_dir) {
  auto compiled = FilterPattern::compile(pattern, anchor_dir);
  if (!compiled) return base::fail(rule_error(rule, compiled.error().message()));
  return std::move(*compiled);
}

// A dir-merge file name: a plain name in each directory (a leading '/',
// rsync's "also scan the parents" form, is dropped).
base::Result<std::string> dir_merge_name(std::string_view rule, std::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return base::fail(rule_error(rule, "a dir-merge file must be a plain file name"));
  }
  return std::string(name);
}

// Parses one rule in full --filter syntax (or, with `syntax.only`, one bare
// pattern). `syntax` gives the defaults of the merge file it came from.
base::Result<Parsed> parse_rule(std::string_view s, const MergeSyntax& syntax,
                                std::string_view anchor_dir) {
  if (s.size() > kMaxFilterRuleBytes) {
    return base::fail(
        rule_error(s, "longer than " + std::to_string(kMaxFilterRuleBytes) + " bytes"));
  }
  Parsed p;
  p.rule.sender = syntax.sender;
  p.rule.receiver = syntax.receiver;
  if (syntax.only != 0) {
    p.rule.type = syntax.only == '+' ? FilterRule::Type::include : FilterRule::Type::exclude;
    p.rule.pattern = TRY(compile_pattern(s, s, anchor_dir));
    return p;
  }
  if (s.empty()) return base::fail(rule_error(s, "empty rule"));
  char code = 0;
  size_t i = 0;
  bool long_form = false;
  for (const LongName& l : kLongNames) {
    if (s.substr(0, l.name.size()) == l.name &&
        (s.size() == l.name.size() || s[l.name.size()] == ',' || s[l.name.size()] == ' ' ||
         s[l.name.size()] == '_')) {
      code = l.code;
      i = l.name.size();
      long_form = true;
      break;
    }
  }
  if (!long_form) {
    if (std::string_view("-+.:HSPR!").find(s[0]) == std::string_view::npos) {
      return base::fail(rule_error(s, "unknown rule"));
    }
    code = s[0];
    i = 1;
  }
  if (i < s.size() && s[i] == ',') ++i;
  const size_t mods_begin = i;
  while (i < s.size() && s[i] != ' ' && s[i] != '_') ++i;
  const std::string_view mods = s.substr(mods_begin, i - mods_begin);
  const bool has_arg = i < s.size();
  const std::string_view arg = has_arg ? s.substr(i + 1) : std::string_view();

  if (code == '!') {
    if (!mods.empty() || has_arg)
      return base::fail(rule_error(s, "'!' (clear) takes nothing after it"));
    p.kind = Parsed::Kind::clear;
    return p;
  }
  const bool is_merge = code == '.' || code == ':';
  const bool names_side = code == 'H' || code == 'S' || code == 'P' || code == 'R';
  bool side_given = names_side;
  for (const char m : mods) {
    if (const std::string_view what = refused_modifier(m); !what.empty()) {
      return base::fail(rule_error(
          s, "modifier '" + std::string(1, m) + "' (" + std::string(what) + ") is not supported"));
    }
    const bool ok_rule = !is_merge && (m == '!' || (!names_side && (m == 's' || m == 'r')));
    const bool ok_merge = is_merge && std::string_view("-+enwsr").find(m) != std::string_view::npos;
    if (!ok_rule && !ok_merge) {
      return base::fail(rule_error(s, "unknown modifier '" + shown(std::string_view(&m, 1)) + "'"));
    }
    if (m == 's' || m == 'r') side_given = true;
  }
  if (!has_arg || arg.empty()) return base::fail(rule_error(s, "missing pattern or file name"));
  if (side_given && (syntax.sender || syntax.receiver)) {
    return base::fail(rule_error(s, "names a side, but its merge rule already gives one"));
  }
  auto has = [&](char m) { return mods.find(m) != std::string_view::npos; };
  if (is_merge) {
    if (has('-') && has('+')) return base::fail(rule_error(s, "modifiers '-' and '+' together"));
    p.syntax.only = has('-') ? '-' : has('+') ? '+' : 0;
    p.syntax.word_split = has('w');
    p.syntax.sender = has('s');
    p.syntax.receiver = has('r');
    p.exclude_self = has('e');
    if (code == '.') {
      if (arg == "-")
        return base::fail(rule_error(s, "merging from standard input is not supported"));
      p.kind = Parsed::Kind::merge;
      p.merge_path = std::string(arg);
      return p;
    }
    p.kind = Parsed::Kind::dir_merge;
    p.rule = FilterRule{};
    p.rule.type = FilterRule::Type::dir_merge;
    p.rule.merge_name = TRY(dir_merge_name(s, arg));
    p.rule.no_inherit = has('n');
    p.rule.word_split = p.syntax.word_split;
    p.rule.only = p.syntax.only;
    p.rule.sender = p.syntax.sender;
    p.rule.receiver = p.syntax.receiver;
    return p;
  }
  const bool include = code == '+' || code == 'S' || code == 'R';
  p.rule.type = include ? FilterRule::Type::include : FilterRule::Type::exclude;
  p.rule.negate = has('!');
  if (code == 'H' || code == 'S' || has('s')) p.rule.sender = true;
  if (code == 'P' || code == 'R' || has('r')) p.rule.receiver = true;
  p.rule.pattern = TRY(compile_pattern(s, arg, anchor_dir));
  return p;
}

// The rule 'e' adds: an exclude of the merge file's own name.
base::Result<FilterRule> self_exclude(std::string_view rule, std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view base_name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  FilterRule r;
  r.type = FilterRule::Type::exclude;
  r.pattern = TRY(compile_pattern(rule, base_name, {}));
  return r;
}

// The rule texts of a merge file with their line numbers: lines end at '\n'
// or '\r'; empty ones and (unless word-split) comments are skipped.
struct Token {
  std::string_view text;
  size_t line;
};
std::vector<Token> merge_tokens(std::string_view text, bool word_split) {
  std::vector<Token> out;
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    auto ends = [&](char c) {
      return c == '\n' || c == '\r' ||
             (word_split && (c == ' ' || c == '\t' || c == '\f' || c == '\v'));
    };
    while (j < text.size() && !ends(text[j])) ++j;
    const std::string_view tok = text.substr(i, j - i);
    if (!tok.empty() && (word_split || (tok.front() != '#' && tok.front() != ';'))) {
      out.push_back({tok, line});
    }
    if (j < text.size() && text[j] == '\n') ++line;
    i = j + 1;
  }
  return out;
}

std::string where(std::string_view file, size_t line) {
  return std::string(file) + " line " + std::to_string(line);
}

}  // namespace

bool FilterRule::applies(FilterSide side, bool delete_excluded) const {
  bool s = sender;
  bool r = receiver;
  if (!s && !r) {
    s = true;
    r = !delete_excluded;
  }
  return side == FilterSide::sender ? s : r;
}

std::string FilterRule::line(bool delete_excluded) const {
  std::string out;
  if (type == Type::dir_merge) {
    out = ":";
    if (no_inherit) out += 'n';
    if (word_split) out += 'w';
    if (only != 0) out += only;
    if (sender) out += 's';
    if (receiver) out += 'r';
    return out + " " + merge_name;
  }
  out = type == Type::include ? "+" : "-";
  if (negate) out += '!';
  if (sender) out += 's';
  if (receiver) out += 'r';
  if (!sender && !receiver && delete_excluded) out += 's';
  return out + " " + pattern.text();
}

base::Result<MergeFileRules> parse_dir_merge_text(std::string_view text, const MergeSyntax& syntax,
                                                  std::string_view anchor_dir,
                                                  std::string_view file_name) {
  MergeFileRules out;
  for (const Token& tok : merge_tokens(text, syntax.word_split)) {
    auto parsed = parse_rule(tok.text, syntax, anchor_dir);
    if (!parsed) return base::fail(std::move(parsed.error()).context(where(file_name, tok.line)));
    switch (parsed->kind) {
      case Parsed::Kind::rule:
        out.rules.push_back(std::move(parsed->rule));
        break;
      case Parsed::Kind::clear:
        out.rules.clear();
        out.cleared = true;
        break;
      case Parsed::Kind::merge:
      case Parsed::Kind::dir_merge:
        return base::fail(
            rule_error(tok.text, "merge rules in a per-directory file are not supported")
                .context(where(file_name, tok.line)));
    }
  }
  return out;
}

base::Status FilterRules::add_rule_text(std::string_view rule, int depth, bool from_peer) {
  Parsed p = TRY(parse_rule(rule, MergeSyntax{}, {}));
  switch (p.kind) {
    case Parsed::Kind::rule:
      rules_.push_back(std::move(p.rule));
      return {};
    case Parsed::Kind::clear:
      rules_.clear();
      return {};
    case Parsed::Kind::dir_merge:
      if (p.exclude_self) rules_.push_back(TRY(self_exclude(rule, p.rule.merge_name)));
      rules_.push_back(std::move(p.rule));
      return {};
    case Parsed::Kind::merge:
      if (from_peer) {
        return base::fail(rule_error(rule, "a peer may not make us read a local merge file"));
      }
      if (depth >= kMaxMergeDepth) {
        return base::fail(rule_error(
            rule, "merge files nested more than " + std::to_string(kMaxMergeDepth) + " deep"));
      }
      if (p.exclude_self) rules_.push_back(TRY(self_exclude(rule, p.merge_path)));
      return merge_file(p.merge_path, p.syntax, depth + 1);
  }
  return {};
}

base::Status FilterRules::merge_file(const std::string& path, const MergeSyntax& syntax,
                                     int depth) {
  const std::string text =
      TRY_CTX(base::read_text_capped(path, kMaxFilterFileBytes), "merge file " + path);
  for (const Token& tok : merge_tokens(text, syntax.word_split)) {
    base::Status st = [&]() -> base::Status {
      if (syntax.only != 0 || syntax.sender || syntax.receiver) {
        // A merge rule's modifiers are defaults for its lines.
        Parsed p = TRY(parse_rule(tok.text, syntax, {}));
        if (p.kind == Parsed::Kind::clear) {
          rules_.clear();
          return {};
        }
        if (p.kind != Parsed::Kind::rule) {
          return base::fail(rule_error(tok.text,
                                       "merge rules are not allowed under a merge rule "
                                       "that gives a side"));
        }
        rules_.push_back(std::move(p.rule));
        return {};
      }
      return add_rule_text(tok.text, depth, false);
    }();
    if (!st) return base::fail(std::move(st.error()).context(where(path, tok.line)));
  }
  return {};
}

base::Status FilterRules::add_filter(std::string_view rule) {
  return add_rule_text(rule, 0, false);
}

base::Status FilterRules::add_old_style(std::string_view pattern, bool include) {
  if (pattern == "!") {
    rules_.clear();
    return {};
  }
  if (pattern.size() >= 2 && pattern[1] == ' ' && (pattern[0] == '-' || pattern[0] == '+')) {
    include = pattern[0] == '+';
    pattern.remove_prefix(2);
  }
  if (pattern.size() > kMaxFilterRuleBytes) {
    return base::fail(
        rule_error(pattern, "longer than " + std::to_string(kMaxFilterRuleBytes) + " bytes"));
  }
  FilterRule r;
  r.type = include ? FilterRule::Type::include : FilterRule::Type::exclude;
  r.pattern = TRY(compile_pattern(pattern, pattern, {}));
  rules_.push_back(std::move(r));
  return {};
}

base::Status FilterRules::add_exclude(std::string_view pattern) {
  return add_old_style(pattern, false);
}

base::Status FilterRules::add_include(std::string_view pattern) {
  return add_old_style(pattern, true);
}

base::Status FilterRules::add_from_file(const std::string& file, bool include) {
  if (file == "-") return base::fail_msg("reading patterns from standard input is not supported");
  const std::string text =
      TRY_CTX(base::read_text_capped(file, kMaxFilterFileBytes), "pattern file " + file);
  for (const Token& tok : merge_tokens(text, false)) {
    base::Status st = add_old_style(tok.text, include);
    if (!st) return base::fail(std::move(st.error()).context(where(file, tok.line)));
  }
  return {};
}

base::Status FilterRules::add_exclude_from(const std::string& file) {
  return add_from_file(file, false);
}

base::Status FilterRules::add_include_from(const std::string& file) {
  return add_from_file(file, true);
}

std::vector<std::string> FilterRules::wire_rules() const {
  std::vector<std::string> out;
  out.reserve(rules_.size());
  for (const FilterRule& r : rules_) out.push_back(r.line(delete_excluded_));
  return out;
}

base::Result<FilterRules> FilterRules::from_wire(const std::vector<std::string>& lines) {
  if (lines.size() > kMaxWireFilterRules) {
    return base::fail_msg("peer sent " + std::to_string(lines.size()) + " filter rules (at most " +
                          std::to_string(kMaxWireFilterRules) + ")");
  }
  // Every rule costs this side work per entry, and every dir-merge rule a
  // read of each directory walked: a peer gets a bounded share.
  size_t bytes = 0;
  for (const std::string& line : lines) bytes += line.size();
  if (bytes > kMaxWireFilterBytes)
    return base::fail_msg("peer sent " + std::to_string(bytes) +
                          " bytes of filter rules (at most " + std::to_string(kMaxWireFilterBytes) +
                          ")");
  FilterRules out;
  for (const std::string& line : lines) {
    base::Status st = out.add_rule_text(line, 0, true);
    if (!st) return base::fail(std::move(st.error()).context("peer's filter rules"));
  }
  size_t merges = 0;
  for (const FilterRule& r : out.rules_) merges += r.type == FilterRule::Type::dir_merge;
  if (merges > kMaxWireDirMerges)
    return base::fail_msg("peer sent " + std::to_string(merges) +
                          " dir-merge filter rules (at most " + std::to_string(kMaxWireDirMerges) +
                          ")");
  return out;
}

}  // namespace ferry::sync
