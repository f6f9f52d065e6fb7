// Docker's command-line grammar (spf13/pflag as docker's CLI sets it up),
// for commands whose words end in IMAGE [COMMAND [ARG...]]:
//   - flags are read up to the first word that is not one; that word and
//     every word after it are positional, never flags (`run IMG ls -l`);
//   - long flags: --name VALUE, --name=VALUE, --switch, --switch=false;
//   - short flags: -i, -it (a cluster of switches), -p 80, -p80, -p=80, and
//     the last letter of a cluster may take a value (-dp 80:80);
//   - "--" ends the flags; "-" alone is a positional word.
// An unknown flag, a value missing at the end, or a switch given a value that
// is not a boolean is an error naming it, in docker's words ("unknown flag:
// --x", "unknown shorthand flag: 'x' in -x", "flag needs an argument: --name").
// --help is always known.
// Thread-safety: pure functions.
#pragma once

#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace berth {

struct FlagSpec {
  std::string_view name;  // long name, without "--"
  char shorthand = 0;     // one letter, or 0
  bool takes_value = true;
  std::string_view help;
};

struct DockerArgs {
  // Every value given, in order, by long name; a switch given without a
  // value holds "true". Booleans are normalized to "true"/"false".
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::pair<std::string, std::string>> in_order;  // (name, value) as given
  std::vector<std::string> positional;                        // IMAGE, then the command
  bool help = false;

  bool given(const std::string& name) const { return values.contains(name); }
  // The last value given ("" when none): a flag given twice keeps the last, as pflag.
  std::string last(const std::string& name) const;
  // Every value, in order (a list flag: -e, -v, -p ...).
  std::vector<std::string> all(const std::string& name) const;
  // The value given last of any of `names` (aliases: --net and --network).
  std::string last_of(std::initializer_list<std::string_view> names) const;
  // A switch: its last value is "true".
  bool on(const std::string& name) const { return last(name) == "true"; }
};

base::Result<DockerArgs> parse_docker_args(std::span<const FlagSpec> flags,
                                           std::span<const std::string> words);

// "Options:" and one line per flag, as `--help` prints them.
std::string docker_usage(std::span<const FlagSpec> flags);

}  // namespace berth
