#include "berth/go_template.h"

#include <cctype>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "berth/go_template_functions.h"

namespace berth {

using nlohmann::json;

namespace {

struct Pipeline;

// One word of a command.
struct Operand {
  enum Kind { kField, kVariable, kLiteral, kFunction, kPipe } kind = kLiteral;
  std::string name;                 // a variable ("$", "$x") or a function
  std::vector<std::string> fields;  // .A.B after `.`, a variable or a (pipe)
  json literal;
  std::shared_ptr<Pipeline> pipe;  // (a pipeline)
};

struct Command {
  std::vector<Operand> words;
};

struct Pipeline {
  std::vector<std::string> variables;  // $x := ..., $k, $v := ... (range)
  bool declare = false;                // := (else =)
  std::vector<Command> commands;
};

}  // namespace

struct GoTemplate::Tree {
  enum Kind { kText, kAction, kIf, kRange, kWith };
  struct Node {
    Kind kind = kText;
    std::string text;  // literal text, or the action as written
    Pipeline pipe;
    std::vector<Node> body, otherwise;
  };
  std::vector<Node> nodes;
};

namespace {

using Node = GoTemplate::Tree::Node;
using Tree = GoTemplate::Tree;

base::Error error_at(const std::string& action, const std::string& what) {
  return base::Error::msg(fmt::format("--format: {{{{{}}}}}: {}", action, what));
}

// The words of an action.
struct Token {
  enum Kind { kWord, kString, kNumber, kOpen, kClose, kPipe, kDeclare, kAssign, kComma } kind;
  std::string text;
};

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$';
}

// A Go string literal's escapes: \n \t \\ \" \r \xHH \uHHHH (BMP) and \a..\v.
base::Result<std::string> go_unquote(const std::string& lit) {
  std::string out;
  for (size_t i = 1; i + 1 < lit.size(); ++i) {
    if (lit[i] != '\\') {
      out += lit[i];
      continue;
    }
    char e = lit[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u': {
        size_t n = e == 'x' ? 2 : 4;
        if (i + n >= lit.size()) return base::fail_msg("a bad escape in a string");
        unsigned code = 0;
        for (size_t k = 1; k <= n; ++k) {
          char h = lit[i + k];
          if (!std::isxdigit(static_cast<unsigned char>(h)))
            return base::fail_msg("a bad escape in a string");
          code = code * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h))
                                                       ? h - '0'
                                                       : std::tolower(h) - 'a' + 10);
        }
        i += n;
        if (e == 'x' || code < 0x80) {
          out += static_cast<char>(code);
        } else {
          json j = json::parse(fmt::format("\"\\u{:04x}\"", code), nullptr, false);
          if (j.is_string()) out += j.get<std::string>();
        }
        break;
      }
      default:
        return base::fail_msg(fmt::format("unknown escape \\{} in a string", e));
    }
  }
  return out;
}

base::Result<std::vector<Token>> tokenize(const std::string& action) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < action.size()) {
    char c = action[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '|' || c == '(' || c == ')' || c == ',') {
      out.push_back({c == '|'   ? Token::kPipe
                     : c == '(' ? Token::kOpen
                     : c == ')' ? Token::kClose
                                : Token::kComma,
                     std::string(1, c)});
      ++i;
    } else if (c == ':' && i + 1 < action.size() && action[i + 1] == '=') {
      out.push_back({Token::kDeclare, ":="});
      i += 2;
    } else if (c == '=') {
      out.push_back({Token::kAssign, "="});
      ++i;
    } else if (c == '"' || c == '`') {
      size_t end = i + 1;
      while (end < action.size() && action[end] != c)
        end += (c == '"' && action[end] == '\\') ? 2 : 1;
      if (end >= action.size()) return base::fail(error_at(action, "unclosed string"));
      std::string lit = action.substr(i, end - i + 1);
      if (c == '`') {
        out.push_back({Token::kString, lit.substr(1, lit.size() - 2)});
      } else {
        auto text = go_unquote(lit);
        if (!text) return base::fail(error_at(action, text.error().message()));
        out.push_back({Token::kString, *text});
      }
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+') && i + 1 < action.size() &&
                std::isdigit(static_cast<unsigned char>(action[i + 1])))) {
      size_t end = i + 1;
      while (end < action.size() &&
             (std::isalnum(static_cast<unsigned char>(action[end])) || action[end] == '.'))
        ++end;
      out.push_back({Token::kNumber, action.substr(i, end - i)});
      i = end;
    } else if (word_char(c)) {
      size_t end = i;
      while (end < action.size() && word_char(action[end])) ++end;
      out.push_back({Token::kWord, action.substr(i, end - i)});
      i = end;
    } else {
      return base::fail(error_at(action, fmt::format("unexpected '{}'", c)));
    }
  }
  return out;
}

// ".A.B" -> {"A", "B"}; "." -> {}. False for an empty name (".A..B").
bool split_fields(const std::string& chain, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < chain.size()) {
    if (chain[i] != '.') return false;
    size_t end = chain.find('.', i + 1);
    if (end == std::string::npos) end = chain.size();
    std::string name = chain.substr(i + 1, end - i - 1);
    if (name.empty()) return chain.size() == 1 && out.empty();  // "." alone
    out.push_back(name);
    i = end;
  }
  return true;
}

// Parentheses and blocks nest at most this deep: a hostile template must
// not overflow the stack while it is parsed, run or freed.
constexpr int kMaxDepth = 100;

// What a template may print at most.
constexpr size_t kMaxOutput = size_t{16} << 20;

class ActionParser {
 public:
  ActionParser(const std::string& action, std::vector<Token> tokens)
      : action_(action), tokens_(std::move(tokens)) {}

  base::Result<Pipeline> pipeline(bool allow_declare, bool in_parens = false) {
    Pipeline p;
    if (allow_declare) {
      // $x :=  /  $x =  /  $k, $v :=
      size_t save = next_;
      std::vector<std::string> vars;
      while (next_ < tokens_.size() && tokens_[next_].kind == Token::kWord &&
             tokens_[next_].text.front() == '$' &&
             tokens_[next_].text.find('.') == std::string::npos) {
        vars.push_back(tokens_[next_++].text);
        if (next_ < tokens_.size() && tokens_[next_].kind == Token::kComma) {
          ++next_;
          continue;
        }
        break;
      }
      if (!vars.empty() && next_ < tokens_.size() &&
          (tokens_[next_].kind == Token::kDeclare || tokens_[next_].kind == Token::kAssign) &&
          vars.size() <= 2) {
        p.declare = tokens_[next_].kind == Token::kDeclare;
        p.variables = std::move(vars);
        ++next_;
      } else {
        next_ = save;
      }
    }
    for (;;) {
      Command c;
      while (next_ < tokens_.size() && tokens_[next_].kind != Token::kPipe &&
             tokens_[next_].kind != Token::kClose)
        c.words.push_back(TRY(operand()));
      if (c.words.empty()) return base::fail(error_at(action_, "empty command"));
      p.commands.push_back(std::move(c));
      if (next_ < tokens_.size() && tokens_[next_].kind == Token::kPipe) {
        ++next_;
        continue;
      }
      break;
    }
    if (next_ < tokens_.size() && tokens_[next_].kind == Token::kClose && !in_parens)
      return base::fail(error_at(action_, "unexpected ')'"));
    return p;
  }

  bool done() const { return next_ >= tokens_.size(); }
  bool at_close() const { return next_ < tokens_.size() && tokens_[next_].kind == Token::kClose; }
  void skip() { ++next_; }

 private:
  base::Result<Operand> operand() {
    const Token& t = tokens_[next_++];
    Operand o;
    switch (t.kind) {
      case Token::kString:
        o.literal = t.text;
        return o;
      case Token::kNumber: {
        json n = json::parse(t.text.front() == '+' ? t.text.substr(1) : t.text, nullptr, false);
        if (!n.is_number()) return base::fail(error_at(action_, "bad number " + t.text));
        o.literal = n;
        return o;
      }
      case Token::kOpen: {
        if (++depth_ > kMaxDepth) return base::fail(error_at(action_, "nested too deep"));
        o.kind = Operand::kPipe;
        o.pipe = std::make_shared<Pipeline>(TRY(pipeline(false, true)));
        --depth_;
        if (!at_close()) return base::fail(error_at(action_, "unclosed '('"));
        ++next_;
        // (pipe).Field
        if (next_ < tokens_.size() && tokens_[next_].kind == Token::kWord &&
            tokens_[next_].text.front() == '.') {
          if (!split_fields(tokens_[next_].text, o.fields))
            return base::fail(error_at(action_, "bad field " + tokens_[next_].text));
          ++next_;
        }
        return o;
      }
      case Token::kWord:
        break;
      default:
        return base::fail(error_at(action_, fmt::format("unexpected '{}'", t.text)));
    }
    const std::string& w = t.text;
    if (w.front() == '.') {
      o.kind = Operand::kField;
      if (!split_fields(w, o.fields)) return base::fail(error_at(action_, "bad field " + w));
      return o;
    }
    if (w.front() == '$') {
      o.kind = Operand::kVariable;
      size_t dot = w.find('.');
      o.name = w.substr(0, dot);
      if (dot != std::string::npos && !split_fields(w.substr(dot), o.fields))
        return base::fail(error_at(action_, "bad field " + w));
      return o;
    }
    if (w == "true" || w == "false") {
      o.literal = w == "true";
      return o;
    }
    if (w == "nil") return o;
    if (!go_template::is_function(w))
      return base::fail(error_at(action_, fmt::format("unknown function '{}'", w)));
    o.kind = Operand::kFunction;
    o.name = w;
    return o;
  }

  const std::string& action_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
};

// The template's text cut into literal text and actions, with {{- -}} trims done.
struct Piece {
  bool action = false;
  std::string text;
};

base::Result<std::vector<Piece>> split(std::string_view text) {
  std::vector<Piece> out;
  size_t i = 0;
  bool trim_next = false;
  while (i <= text.size()) {
    size_t open = text.find("{{", i);
    std::string literal(text.substr(i, open == std::string_view::npos ? open : open - i));
    if (trim_next)
      literal.erase(0, literal.find_first_not_of(" \t\r\n") == std::string::npos
                           ? literal.size()
                           : literal.find_first_not_of(" \t\r\n"));
    if (open != std::string_view::npos && open + 3 < text.size() && text[open + 2] == '-' &&
        std::isspace(static_cast<unsigned char>(text[open + 3])))
      literal.erase(literal.find_last_not_of(" \t\r\n") + 1);
    if (!literal.empty()) out.push_back({false, literal});
    if (open == std::string_view::npos) break;
    // The action ends at the first "}}" outside a string.
    size_t j = open + 2;
    char quote = 0;
    for (; j + 1 < text.size(); ++j) {
      char c = text[j];
      if (quote) {
        if (c == '\\' && quote == '"')
          ++j;
        else if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && text[j + 1] == '}') {
        break;
      }
    }
    if (j + 1 >= text.size())
      return base::fail_msg(
          fmt::format("--format: unclosed action at '{}'", text.substr(open, 20)));
    std::string action(text.substr(open + 2, j - open - 2));
    if (action.size() >= 2 && action[0] == '-' &&
        std::isspace(static_cast<unsigned char>(action[1])))
      action.erase(0, 1);
    trim_next = action.size() >= 2 && action.back() == '-' &&
                std::isspace(static_cast<unsigned char>(action[action.size() - 2]));
    if (trim_next) action.pop_back();
    size_t first = action.find_first_not_of(" \t\r\n");
    size_t last = action.find_last_not_of(" \t\r\n");
    action = first == std::string::npos ? "" : action.substr(first, last - first + 1);
    out.push_back({true, action});
    i = j + 2;
  }
  return out;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  // Nodes until {{end}} or {{else...}} (`stop` says which ended it) or the text's end.
  base::Result<std::vector<Node>> nodes(std::string* stop) {
    std::vector<Node> out;
    while (next_ < pieces_.size()) {
      const Piece& p = pieces_[next_++];
      if (!p.action) {
        out.push_back({Tree::kText, p.text, {}, {}, {}});
        continue;
      }
      const std::string& a = p.text;
      if (a.rfind("/*", 0) == 0) {
        if (a.size() < 4 || a.substr(a.size() - 2) != "*/")
          return base::fail(error_at(a, "unclosed comment"));
        continue;
      }
      std::string keyword = a.substr(0, a.find_first_of(" \t\r\n"));
      if (keyword == "end" || keyword == "else") {
        if (!stop) return base::fail(error_at(a, "unexpected " + keyword));
        *stop = a;
        return out;
      }
      if (keyword == "if" || keyword == "range" || keyword == "with") {
        out.push_back(TRY(block(a, keyword)));
        continue;
      }
      if (keyword == "define" || keyword == "template" || keyword == "block")
        return base::fail(error_at(a, keyword + " is not supported"));
      Node n{Tree::kAction, a, {}, {}, {}};
      n.pipe = TRY(parse_pipeline(a, a, true));
      out.push_back(std::move(n));
    }
    if (stop) return base::fail_msg("--format: a block has no {{end}}");
    return out;
  }

 private:
  static base::Result<Pipeline> parse_pipeline(const std::string& action, const std::string& text,
                                               bool allow_declare) {
    ActionParser parser(action, TRY(tokenize(text)));
    Pipeline p = TRY(parser.pipeline(allow_declare));
    if (!parser.done()) return base::fail(error_at(action, "unexpected words at the end"));
    return p;
  }

  base::Result<Node> block(const std::string& action, const std::string& keyword) {
    if (++depth_ > kMaxDepth) return base::fail(error_at(action, "blocks nested too deep"));
    Node n{keyword == "if"      ? Tree::kIf
           : keyword == "range" ? Tree::kRange
                                : Tree::kWith,
           action,
           {},
           {},
           {}};
    std::string rest = action.substr(keyword.size());
    if (rest.find_first_not_of(" \t\r\n") == std::string::npos)
      return base::fail(error_at(action, "missing value for " + keyword));
    n.pipe = TRY(parse_pipeline(action, rest, keyword != "if"));
    std::string stop;
    n.body = TRY(nodes(&stop));
    if (stop.rfind("else", 0) == 0) {
      std::string after = stop.substr(4);
      size_t first = after.find_first_not_of(" \t\r\n");
      if (first != std::string::npos && keyword == "if" && after.substr(first, 2) == "if") {
        // else if ...: an if of its own, ending at the same {{end}}.
        n.otherwise.push_back(TRY(block(after.substr(first), "if")));
        --depth_;
        return n;
      }
      if (first != std::string::npos)
        return base::fail(error_at(stop, "unexpected words after else"));
      n.otherwise = TRY(nodes(&stop));
      if (stop != "end") return base::fail(error_at(stop, "a second else"));
    }
    --depth_;
    return n;
  }

  std::vector<Piece> pieces_;
  size_t next_ = 0;
  int depth_ = 0;
};

// An object whose keys all begin with a capital letter stands for one of
// docker's structs: a field it lacks is a mistake. Any other (labels, ports,
// networks: docker's maps, empty ones included) gives <no value> for a key it lacks.
bool struct_like(const json& v) {
  if (v.empty()) return false;
  for (const auto& [k, item] : v.items())
    if (k.empty() || !std::isupper(static_cast<unsigned char>(k.front()))) return false;
  return true;
}

// Execution state: the variables in scope, innermost last.
class Executor {
 public:
  explicit Executor(const json& root) { vars_.push_back({"$", root}); }

  base::Status run(const std::vector<Node>& nodes, const json& dot, std::string& out) {
    size_t scope = vars_.size();
    for (const Node& n : nodes) {
      TRY_STATUS(run_node(n, dot, out));
      if (out.size() > kMaxOutput)
        return base::fail(error_at(n.text, "the output is larger than 16 MiB"));
    }
    vars_.resize(scope);
    return {};
  }

 private:
  base::Status run_node(const Node& n, const json& dot, std::string& out) {
    switch (n.kind) {
      case Tree::kText:
        out += n.text;
        return {};
      case Tree::kAction: {
        json v = TRY(pipeline(n.pipe, dot, n.text));
        if (n.pipe.variables.empty()) out += go_print(v);
        return {};
      }
      case Tree::kIf:
      case Tree::kWith: {
        size_t scope = vars_.size();
        json v = TRY(pipeline(n.pipe, dot, n.text));
        bool taken = go_template::truth(v);
        if (taken)
          TRY_STATUS(run(n.body, n.kind == Tree::kWith ? v : dot, out));
        else
          TRY_STATUS(run(n.otherwise, dot, out));
        vars_.resize(scope);
        return {};
      }
      case Tree::kRange:
        return range(n, dot, out);
    }
    return {};
  }

  base::Status range(const Node& n, const json& dot, std::string& out) {
    size_t scope = vars_.size();
    const std::vector<std::string>& names = n.pipe.variables;  // bound per element below
    json v = TRY(pipeline(n.pipe, dot, n.text, /*bind=*/false));
    if (!v.is_null() && !v.is_array() && !v.is_object())
      return base::fail(error_at(n.text, fmt::format("range over {}", v.type_name())));
    if (!go_template::truth(v)) {
      TRY_STATUS(run(n.otherwise, dot, out));
      vars_.resize(scope);
      return {};
    }
    size_t index = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++index) {
      json key = v.is_object() ? json(it.key()) : json(index);
      vars_.resize(scope);
      if (names.size() == 1) vars_.push_back({names[0], *it});
      if (names.size() == 2) {
        vars_.push_back({names[0], key});
        vars_.push_back({names[1], *it});
      }
      TRY_STATUS(run(n.body, *it, out));
    }
    vars_.resize(scope);
    return {};
  }

  base::Result<json> fields_of(json v, const std::vector<std::string>& fields,
                               const std::string& action) {
    for (const auto& f : fields) {
      if (v.is_object() && !v.contains(f) && !struct_like(v)) return json();  // a map's missing key
      if (!v.is_object() || !v.contains(f))
        return base::fail(error_at(action, fmt::format("no field '{}'", f)));
      json next = v[f];
      v = std::move(next);
    }
    return v;
  }

  base::Result<json> variable(const std::string& name, const std::string& action) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return it->second;
    return base::fail(error_at(action, fmt::format("undefined variable {}", name)));
  }

  base::Result<json> operand(const Operand& o, const json& dot, const std::string& action) {
    switch (o.kind) {
      case Operand::kField:
        return fields_of(dot, o.fields, action);
      case Operand::kVariable:
        return fields_of(TRY(variable(o.name, action)), o.fields, action);
      case Operand::kPipe:
        return fields_of(TRY(pipeline(*o.pipe, dot, action)), o.fields, action);
      case Operand::kLiteral:
        return o.literal;
      case Operand::kFunction:
        return call(o.name, {}, nullptr, action);
    }
    return json();
  }

  base::Result<json> call(const std::string& name, std::vector<json> args, const json* piped,
                          const std::string& action) {
    if (piped) args.push_back(*piped);
    auto r = go_template::call_function(name, args);
    if (!r) return base::fail(error_at(action, r.error().message()));
    return r;
  }

  base::Result<json> command(const Command& c, const json& dot, const json* piped,
                             const std::string& action) {
    const Operand& head = c.words.front();
    if (head.kind == Operand::kFunction) {
      std::vector<json> args;
      for (size_t i = 1; i < c.words.size(); ++i)
        args.push_back(TRY(operand(c.words[i], dot, action)));
      return call(head.name, std::move(args), piped, action);
    }
    if (c.words.size() > 1 || piped)
      return base::fail(error_at(action, "a value is not a function: it takes no arguments"));
    return operand(head, dot, action);
  }

  // `bind`: a declaration's variable takes the value (not range's: it binds each element).
  base::Result<json> pipeline(const Pipeline& p, const json& dot, const std::string& action,
                              bool bind = true) {
    json v;
    bool have = false;
    for (const auto& c : p.commands) {
      v = TRY(command(c, dot, have ? &v : nullptr, action));
      have = true;
    }
    if (bind && !p.variables.empty()) {
      const std::string& name = p.variables.back();
      if (p.declare) {
        vars_.push_back({name, v});
      } else {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend() && !found; ++it)
          if (it->first == name) {
            it->second = v;
            found = true;
          }
        if (!found) return base::fail(error_at(action, fmt::format("undefined variable {}", name)));
      }
    }
    return v;
  }

  std::vector<std::pair<std::string, json>> vars_;
};

}  // namespace

std::string go_print(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<no value>";
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + go_print(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (const auto& [k, item] : v.items()) {
      out += (first ? "" : " ") + k + ":" + go_print(item);
      first = false;
    }
    return out + "]";
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::abs(d) < 9e18) return fmt::format("{}", static_cast<int64_t>(d));
    if (std::floor(d) == d && std::abs(d) < 1e21) return fmt::format("{:.0f}", d);
    return fmt::format("{}", d);
  }
  return v.dump();
}

base::Result<GoTemplate> GoTemplate::parse(std::string_view text) {
  auto tree = std::make_shared<Tree>();
  TreeBuilder builder(TRY(split(text)));
  tree->nodes = TRY(builder.nodes(nullptr));
  GoTemplate t;
  t.tree_ = std::move(tree);
  return t;
}

base::Result<std::string> GoTemplate::execute(const json& dot) const {
  std::string out;
  Executor e(dot);
  TRY_STATUS(e.run(tree_->nodes, dot, out));
  return out;
}

std::string GoTemplate::header(const std::map<std::string, std::string>& names) const {
  std::string out;
  for (const Node& n : tree_->nodes) {
    if (n.kind == Tree::kText) {
      out += n.text;
      continue;
    }
    if (n.kind != Tree::kAction) continue;
    std::string name;
    for (const auto& c : n.pipe.commands)
      for (const auto& o : c.words)
        if (name.empty() && o.kind == Operand::kField && !o.fields.empty())
          for (const auto& f : o.fields) name += (name.empty() ? "" : ".") + f;
    auto known = names.find(name);
    if (known != names.end()) {
      out += known->second;
    } else {
      for (char c : name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace berth
