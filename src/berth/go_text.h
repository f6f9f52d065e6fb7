// Text as Go and docker's CLI write it, for output that must match docker's
// byte for byte: strconv.Quote, and the CLI's Ellipsis.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace berth {

// Go's strconv.Quote: "..." with \" \\ \a \b \f \n \r \t \v escaped, other
// control bytes and bytes that are not UTF-8 as \xNN, and the code points a
// terminal could be misled by (C1 controls, format and bidirectional
// characters, odd spaces and separators, private use) as \uNNNN or
// \UNNNNNNNN, as Go escapes them; other UTF-8 kept as it is.
std::string go_quote(std::string_view text);

// How wide Go's tabwriter takes `text` to be: its UTF-8 code points (a byte
// that is not UTF-8 counts as one).
size_t text_width(std::string_view text);

// docker's formatter.Ellipsis for text of narrow characters: text of more
// than `max` UTF-8 code points cut to max - 1 of them and "…". (docker
// counts East Asian wide characters as two; berth counts them as one.)
std::string ellipsis(std::string_view text, size_t max);

}  // namespace berth
