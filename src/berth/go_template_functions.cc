#include "berth/go_template_functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "berth/go_template.h"
#include "berth/go_text.h"

namespace berth::go_template {
namespace {

using nlohmann::json;

base::Status want(std::string_view name, const std::vector<json>& args, size_t n) {
  if (args.size() == n) return {};
  return base::fail_msg(fmt::format("{} takes {} argument{}", name, n, n == 1 ? "" : "s"));
}

base::Status at_least(std::string_view name, const std::vector<json>& args, size_t n) {
  if (args.size() >= n) return {};
  return base::fail_msg(fmt::format("{} takes at least {} argument{}", name, n, n == 1 ? "" : "s"));
}

std::string type_of(const json& v) {
  return v.is_null() ? "nil" : v.type_name();
}

base::Result<int64_t> integer(std::string_view what, const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
      std::abs(v.get<double>()) < 9e18)
    return static_cast<int64_t>(v.get<double>());
  return base::fail_msg(fmt::format("{}: {} is not an integer", what, type_of(v)));
}

// -1, 0, 1 for two numbers or two strings; an error for anything else.
base::Result<int> compare(std::string_view name, const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    if (a.is_number_integer() && b.is_number_integer()) {
      int64_t i = a.get<int64_t>(), j = b.get<int64_t>();
      return i < j ? -1 : i > j ? 1 : 0;
    }
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get<std::string>().compare(b.get<std::string>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_boolean() && b.is_boolean() && (name == "eq" || name == "ne")) return a == b ? 0 : 1;
  if (a.is_null() && b.is_null() && (name == "eq" || name == "ne")) return 0;
  return base::fail_msg(fmt::format("{}: cannot compare {} with {}", name, type_of(a), type_of(b)));
}

std::string change_case(std::string s, int (*f)(int)) {
  for (auto& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return s;
}

// One verb of printf with its flags, width and precision; `arg` may be null
// when missing.
std::string format_verb(char verb, const std::string& flags, int width, int precision,
                        const json* arg) {
  if (!arg) return fmt::format("%!{}(MISSING)", verb);
  std::string body;
  const json& v = *arg;
  switch (verb) {
    case 'd':
      body = v.is_number_integer() ? fmt::format("{}", v.get<int64_t>())
             : v.is_number()       ? fmt::format("{:.0f}", std::trunc(v.get<double>()))
                                   : fmt::format("%!d({}={})", type_of(v), go_print(v));
      if (flags.find('+') != std::string::npos && v.is_number() && v.get<double>() >= 0)
        body = "+" + body;
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'g':
      if (!v.is_number()) {
        body = fmt::format("%!{}({}={})", verb, type_of(v), go_print(v));
      } else if (verb == 'e') {
        body = fmt::format("{:.{}e}", v.get<double>(), precision < 0 ? 6 : precision);
      } else if (verb == 'g') {
        body = precision < 0 ? fmt::format("{}", v.get<double>())
                             : fmt::format("{:.{}g}", v.get<double>(), precision);
      } else {
        body = fmt::format("{:.{}f}", v.get<double>(), precision < 0 ? 6 : precision);
      }
      break;
    case 'x':
    case 'X': {
      if (v.is_number_integer()) {
        body = fmt::format("{:x}", v.get<int64_t>());
      } else {
        for (unsigned char c : go_print(v)) body += fmt::format("{:02x}", c);
      }
      if (verb == 'X') body = change_case(body, ::toupper);
      break;
    }
    case 'q':
      body = go_quote(go_print(v));
      break;
    case 't':
      body = v.is_boolean() ? (v.get<bool>() ? "true" : "false")
                            : fmt::format("%!t({}={})", type_of(v), go_print(v));
      break;
    case 's':
    case 'v':
      body = go_print(v);
      if (precision >= 0 && verb == 's' && body.size() > static_cast<size_t>(precision))
        body.resize(static_cast<size_t>(precision));
      break;
    default:
      return fmt::format("%!{}({}={})", verb, type_of(v), go_print(v));
  }
  if (width > 0 && body.size() < static_cast<size_t>(width)) {
    size_t pad = static_cast<size_t>(width) - body.size();
    if (flags.find('-') != std::string::npos)
      body += std::string(pad, ' ');
    else if (flags.find('0') != std::string::npos &&
             std::string("dfFeg").find(verb) != std::string::npos)
      body.insert(body[0] == '-' || body[0] == '+' ? 1 : 0, std::string(pad, '0'));
    else
      body.insert(0, std::string(pad, ' '));
  }
  return body;
}

std::string printf_text(const std::string& format, const std::vector<json>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t j = i + 1;
    std::string flags;
    while (j < format.size() && std::string("-+ 0#").find(format[j]) != std::string::npos)
      flags += format[j++];
    int width = 0, precision = -1;
    // Widths and precisions past 9999 are cut there: no template asks for more.
    while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j])))
      width = std::min(width * 10 + (format[j++] - '0'), 9999);
    if (j < format.size() && format[j] == '.') {
      precision = 0;
      ++j;
      while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j])))
        precision = std::min(precision * 10 + (format[j++] - '0'), 9999);
    }
    if (j >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[j];
    i = j;
    if (verb == '%') {
      out += '%';
      continue;
    }
    out += format_verb(verb, flags, width, precision, next < args.size() ? &args[next] : nullptr);
    ++next;
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k)
      out += (k > next ? ", " : "") + type_of(args[k]) + "=" + go_print(args[k]);
    out += ")";
  }
  return out;
}

// Go's Sprint: a space between two operands when neither is a string.
std::string print_text(const std::vector<json>& args, bool line) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && (line || (!args[i - 1].is_string() && !args[i].is_string()))) out += ' ';
    out += go_print(args[i]);
  }
  return line ? out + "\n" : out;
}

base::Result<json> index_of(const std::vector<json>& args) {
  json at = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    if (at.is_array()) {
      int64_t k = TRY(integer("index", args[i]));
      if (k < 0 || static_cast<size_t>(k) >= at.size())
        return base::fail_msg(fmt::format("index out of range: {}", k));
      json next = at[static_cast<size_t>(k)];
      at = std::move(next);
    } else if (at.is_object()) {
      if (!args[i].is_string())
        return base::fail_msg(fmt::format("index of a map with a {}", type_of(args[i])));
      auto it = at.find(args[i].get<std::string>());
      // A missing key: Go's zero value, "" for a map of strings (labels).
      bool strings = std::all_of(at.begin(), at.end(), [](const json& x) { return x.is_string(); });
      json next = it != at.end() ? *it : strings ? json("") : json();
      at = std::move(next);
    } else if (at.is_string()) {
      int64_t k = TRY(integer("index", args[i]));
      const std::string& s = at.get_ref<const std::string&>();
      if (k < 0 || static_cast<size_t>(k) >= s.size())
        return base::fail_msg(fmt::format("index out of range: {}", k));
      at = static_cast<unsigned char>(s[static_cast<size_t>(k)]);
    } else {
      return base::fail_msg(fmt::format("cannot index {}", type_of(at)));
    }
  }
  return at;
}

base::Result<json> slice_of(const std::vector<json>& args) {
  const json& v = args[0];
  size_t size = v.is_string()  ? v.get_ref<const std::string&>().size()
                : v.is_array() ? v.size()
                               : 0;
  if (!v.is_string() && !v.is_array())
    return base::fail_msg(fmt::format("cannot slice {}", type_of(v)));
  int64_t from = args.size() > 1 ? TRY(integer("slice", args[1])) : 0;
  int64_t to = args.size() > 2 ? TRY(integer("slice", args[2])) : static_cast<int64_t>(size);
  if (args.size() > 3) return base::fail_msg("slice takes at most 3 arguments");
  if (from < 0 || to < from || static_cast<size_t>(to) > size)
    return base::fail_msg(fmt::format("slice: index out of range: [{}:{}]", from, to));
  if (v.is_string())
    return json(v.get_ref<const std::string&>().substr(static_cast<size_t>(from),
                                                       static_cast<size_t>(to - from)));
  return json(json::array_t(v.begin() + from, v.begin() + to));
}

constexpr std::string_view kFunctions[] = {"and",   "or",     "not",     "len",  "index",   "slice",
                                           "print", "printf", "println", "eq",   "ne",      "lt",
                                           "le",    "gt",     "ge",      "json", "join",    "split",
                                           "upper", "lower",  "title",   "pad",  "truncate"};

}  // namespace

bool truth(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

bool is_function(std::string_view name) {
  return std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
}

base::Result<json> call_function(std::string_view name, const std::vector<json>& args) {
  if (name == "and" || name == "or") {
    TRY_STATUS(at_least(name, args, 1));
    for (const auto& a : args)
      if (truth(a) == (name == "or")) return a;
    return args.back();
  }
  if (name == "not") {
    TRY_STATUS(want(name, args, 1));
    return json(!truth(args[0]));
  }
  if (name == "len") {
    TRY_STATUS(want(name, args, 1));
    if (args[0].is_string()) return json(args[0].get_ref<const std::string&>().size());
    if (args[0].is_array() || args[0].is_object()) return json(args[0].size());
    return base::fail_msg(fmt::format("len of {}", type_of(args[0])));
  }
  if (name == "index") {
    TRY_STATUS(at_least(name, args, 1));
    return index_of(args);
  }
  if (name == "slice") {
    TRY_STATUS(at_least(name, args, 1));
    return slice_of(args);
  }
  if (name == "print" || name == "println") return json(print_text(args, name == "println"));
  if (name == "printf") {
    TRY_STATUS(at_least(name, args, 1));
    if (!args[0].is_string()) return base::fail_msg("printf: the format must be a string");
    return json(
        printf_text(args[0].get<std::string>(), std::vector<json>(args.begin() + 1, args.end())));
  }
  if (name == "eq") {
    TRY_STATUS(at_least(name, args, 2));
    for (size_t i = 1; i < args.size(); ++i)
      if (TRY(compare(name, args[0], args[i])) == 0) return json(true);
    return json(false);
  }
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    TRY_STATUS(want(name, args, 2));
    int c = TRY(compare(name, args[0], args[1]));
    return json(name == "ne"   ? c != 0
                : name == "lt" ? c < 0
                : name == "le" ? c <= 0
                : name == "gt" ? c > 0
                               : c >= 0);
  }
  if (name == "json") {
    TRY_STATUS(want(name, args, 1));
    return json(args[0].dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (name == "join") {
    TRY_STATUS(want(name, args, 2));
    if (!args[0].is_array() || !args[1].is_string())
      return base::fail_msg("join takes a list and a string");
    std::string out;
    for (size_t i = 0; i < args[0].size(); ++i)
      out += (i ? args[1].get<std::string>() : "") + go_print(args[0][i]);
    return json(out);
  }
  if (name == "split") {
    TRY_STATUS(want(name, args, 2));
    if (!args[0].is_string() || !args[1].is_string())
      return base::fail_msg("split takes a string and a separator");
    const std::string &s = args[0].get_ref<const std::string&>(),
                      &sep = args[1].get_ref<const std::string&>();
    json out = json::array();
    if (sep.empty()) {
      for (char c : s) out.push_back(std::string(1, c));
      return out;
    }
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
      out.push_back(s.substr(start, at - start));
    out.push_back(s.substr(start));
    return out;
  }
  if (name == "upper" || name == "lower" || name == "title") {
    TRY_STATUS(want(name, args, 1));
    std::string s = go_print(args[0]);
    if (name == "title") {
      for (size_t i = 0; i < s.size(); ++i)
        if (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))
          s[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
      return json(s);
    }
    return json(change_case(s, name == "upper" ? ::toupper : ::tolower));
  }
  if (name == "pad") {
    TRY_STATUS(want(name, args, 3));
    int64_t left = TRY(integer("pad", args[1])), right = TRY(integer("pad", args[2]));
    if (left < 0 || right < 0 || left > 4096 || right > 4096)
      return base::fail_msg("pad: from 0 to 4096 spaces");
    return json(std::string(static_cast<size_t>(left), ' ') + go_print(args[0]) +
                std::string(static_cast<size_t>(right), ' '));
  }
  if (name == "truncate") {
    TRY_STATUS(want(name, args, 2));
    std::string s = go_print(args[0]);
    int64_t n = TRY(integer("truncate", args[1]));
    if (n >= 0 && static_cast<size_t>(n) < s.size()) s.resize(static_cast<size_t>(n));
    return json(s);
  }
  return base::fail_msg(fmt::format("unknown function '{}'", name));
}

}  // namespace berth::go_template
