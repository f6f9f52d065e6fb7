#include "berth/docker_args.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace berth {
namespace {

constexpr FlagSpec kHelp{"help", 0, false, "print usage"};

const FlagSpec* find_long(std::span<const FlagSpec> flags, std::string_view name) {
  if (name == kHelp.name) return &kHelp;
  auto it =
      std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == name; });
  return it == flags.end() ? nullptr : &*it;
}

const FlagSpec* find_short(std::span<const FlagSpec> flags, char c) {
  auto it =
      std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.shorthand == c; });
  return it == flags.end() ? nullptr : &*it;
}

// Go's strconv.ParseBool, as pflag reads a switch's value.
std::optional<std::string> boolean(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return "true";
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return "false";
  return std::nullopt;
}

// A printable form of a word for an error line: control bytes escaped.
std::string shown(std::string_view word) {
  std::string out;
  for (unsigned char c : word) {
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

struct Parser {
  std::span<const FlagSpec> flags;
  std::span<const std::string> words;
  size_t next = 0;
  DockerArgs out;

  base::Status set(const FlagSpec& f, std::string value, std::string_view as_written) {
    if (!f.takes_value) {
      auto b = boolean(value);
      if (!b)
        return base::fail_msg(fmt::format("invalid argument \"{}\" for \"{}\" flag: not a boolean",
                                          shown(value), shown(as_written)));
      value = *b;
    }
    if (f.name == kHelp.name) {
      out.help = value == "true";
      return {};
    }
    out.in_order.emplace_back(std::string(f.name), value);
    out.values[std::string(f.name)].push_back(std::move(value));
    return {};
  }

  base::Status long_flag(const std::string& word) {
    std::string_view body = std::string_view(word).substr(2);
    if (body.empty() || body.front() == '-' || body.front() == '=')
      return base::fail_msg(fmt::format("bad flag syntax: {}", shown(word)));
    auto eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    const FlagSpec* f = find_long(flags, name);
    if (!f) return base::fail_msg(fmt::format("unknown flag: --{}", shown(name)));
    if (eq != std::string_view::npos)
      return set(*f, std::string(body.substr(eq + 1)), fmt::format("--{}", name));
    if (!f->takes_value) return set(*f, "true", fmt::format("--{}", name));
    if (next >= words.size())
      return base::fail_msg(fmt::format("flag needs an argument: --{}", shown(name)));
    return set(*f, words[next++], fmt::format("--{}", name));
  }

  base::Status short_flags(const std::string& word) {
    std::string_view shorts = std::string_view(word).substr(1);
    while (!shorts.empty()) {
      char c = shorts.front();
      const FlagSpec* f = find_short(flags, c);
      if (!f)
        return base::fail_msg(fmt::format("unknown shorthand flag: '{}' in -{}",
                                          shown(std::string_view(&c, 1)), shown(shorts)));
      std::string as_written = fmt::format("-{}", c);
      if (shorts.size() > 2 && shorts[1] == '=')  // -f=VALUE
        return set(*f, std::string(shorts.substr(2)), as_written);
      if (!f->takes_value) {
        TRY_STATUS(set(*f, "true", as_written));
        shorts.remove_prefix(1);
        continue;
      }
      if (shorts.size() > 1) return set(*f, std::string(shorts.substr(1)), as_written);  // -fVALUE
      if (next >= words.size())
        return base::fail_msg(fmt::format("flag needs an argument: '{}' in -{}",
                                          shown(std::string_view(&c, 1)), shown(shorts)));
      return set(*f, words[next++], as_written);
    }
    return {};
  }

  base::Status run() {
    while (next < words.size()) {
      const std::string& word = words[next++];
      if (word == "--") break;
      if (word.size() < 2 || word[0] != '-') {  // the image: the flags end here
        --next;
        break;
      }
      TRY_STATUS(word[1] == '-' ? long_flag(word) : short_flags(word));
    }
    out.positional.assign(words.begin() + static_cast<std::ptrdiff_t>(next), words.end());
    return {};
  }
};

}  // namespace

std::string DockerArgs::last(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? std::string() : it->second.back();
}

std::string DockerArgs::last_of(std::initializer_list<std::string_view> names) const {
  for (auto it = in_order.rbegin(); it != in_order.rend(); ++it)
    for (auto n : names)
      if (it->first == n) return it->second;
  return {};
}

std::vector<std::string> DockerArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

base::Result<DockerArgs> parse_docker_args(std::span<const FlagSpec> flags,
                                           std::span<const std::string> words) {
  Parser p{flags, words};
  TRY_STATUS(p.run());
  return std::move(p.out);
}

std::string docker_usage(std::span<const FlagSpec> flags) {
  std::string out = "Options:\n";
  for (const FlagSpec& f : flags) {
    std::string left = f.shorthand ? fmt::format("  -{}, --{}", f.shorthand, f.name)
                                   : fmt::format("      --{}", f.name);
    if (f.takes_value) left += " value";
    out += fmt::format("{:<34} {}\n", left, f.help);
  }
  out += fmt::format("{:<34} {}\n", "      --help", kHelp.help);
  return out;
}

}  // namespace berth
