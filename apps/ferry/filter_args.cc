#include "filter_args.h"

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace filter_args {
namespace {
enum class Kind { kExclude, kInclude, kFilter, kExcludeFrom, kIncludeFrom };

struct Option {
  const char* name;
  Kind kind;
};
constexpr Option kOptions[] = {
    {"--exclude", Kind::kExclude},
    {"--include", Kind::kInclude},
    {"--filter", Kind::kFilter},
    {"-f", Kind::kFilter},
    {"--exclude-from", Kind::kExcludeFrom},
    {"--include-from", Kind::kIncludeFrom},
};

base::Status add(ferry::sync::FilterRules& rules, Kind kind, const std::string& value) {
  switch (kind) {
    case Kind::kExclude:
      return rules.add_exclude(value);
    case Kind::kInclude:
      return rules.add_include(value);
    case Kind::kFilter:
      return rules.add_filter(value);
    case Kind::kExcludeFrom:
      return rules.add_exclude_from(value);
    case Kind::kIncludeFrom:
      return rules.add_include_from(value);
  }
  return {};
}
}  // namespace

namespace {
// rsync's users group short flags ("-aFH"). CLI11 splits groups of the flags
// it knows; a group holding -F is split here, so -F is taken in its place.
constexpr std::string_view kPlainShortFlags = "arnicHXbqzvF";

void split_groups_with_f(std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    bool group = a.size() > 2 && a[0] == '-' && a[1] != '-' && a != "-FF" &&
                 a.find('F') != std::string::npos &&
                 a.find_first_not_of(kPlainShortFlags, 1) == std::string::npos;
    if (!group) {
      out.push_back(a);
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) out.push_back(std::string{'-', a[k]});
  }
  args = std::move(out);
}
}  // namespace

base::Status take_filter_options(std::vector<std::string>& args, ferry::sync::FilterRules& rules) {
  split_groups_with_f(args);
  std::vector<std::string> rest;
  int dash_f = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (a == "-F" || a == "-FF") {
      for (size_t k = 0; k < a.size() - 1; ++k) {
        TRY_STATUS(
            rules.add_filter(++dash_f == 1 ? "dir-merge /.rsync-filter" : "- .rsync-filter"));
      }
      continue;
    }
    bool taken = false;
    for (const Option& o : kOptions) {
      std::string name = o.name;
      if (a == name) {
        if (i + 1 >= args.size()) return base::fail_msg(fmt::format("{} needs a value", name));
        if (auto st = add(rules, o.kind, args[++i]); !st)
          return base::fail(std::move(st).error().context(name));
        taken = true;
        break;
      }
      if (name.size() > 2 && a.rfind(name + "=", 0) == 0) {
        if (auto st = add(rules, o.kind, a.substr(name.size() + 1)); !st)
          return base::fail(std::move(st).error().context(name));
        taken = true;
        break;
      }
    }
    if (!taken) rest.push_back(a);
  }
  args = std::move(rest);
  return {};
}

}  // namespace filter_args
