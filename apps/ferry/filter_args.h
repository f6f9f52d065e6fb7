// rsync's filter options for `ferry sync`, taken from the command line in
// the order given: --exclude, --include, --filter/-f, --exclude-from,
// --include-from and -F (each -F adds "dir-merge /.rsync-filter", a second
// one "- .rsync-filter"), as PATTERN or =PATTERN. Their order is their
// meaning (the first matching rule wins), which an option parser that
// groups options by name would lose, so they are removed from `args` before
// it runs. A group of short flags holding F ("-aFH") is split into single
// flags first. Scanning stops at "--".
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "ferry/sync/filter_rules.h"

namespace filter_args {

base::Status take_filter_options(std::vector<std::string>& args, ferry::sync::FilterRules& rules);

}  // namespace filter_args
