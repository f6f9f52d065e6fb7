// Pieces every picture on the `ferry report` page shares: text escaped for
// HTML and SVG, and the colour that stands for each verdict (the interval
// shading of the charts, the verdict box, the limiting stage of the
// pipeline). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// <, >, & and " as entities; everything else as is.
std::string html_escape(std::string_view text);

// "#rrggbb" for each word of kLimits; a light grey for anything else.
const char* verdict_color(std::string_view verdict);

}  // namespace ferry
