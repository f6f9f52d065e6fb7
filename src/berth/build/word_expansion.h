// Docker's word rules for Dockerfile arguments: where words end, and
// environment replacement, as the Dockerfile reference ("Environment
// replacement", ENV, LABEL, ARG) and BuildKit's shell lexer define them.
//
// Splitting (split_words, split_assignments, split_arg_declarations) keeps
// quotes and escape characters as written: it only decides where words end,
// as docker's parser does before anything is expanded. Expansion
// (expand_word, expand_words) then removes quotes, applies escapes and
// replaces variables:
//   $NAME ${NAME}     the value; "" when unset
//   ${NAME:-word}     word when NAME is unset or empty, else the value
//   ${NAME-word}      word when NAME is unset, else the value (even "")
//   ${NAME:+word}     word when NAME is set and not empty, else ""
//   ${NAME+word}      word when NAME is set (even to ""), else ""
//   ${NAME:?word}     an error "NAME: word" when NAME is unset or empty
//   ${NAME?word}      an error "NAME: word" when NAME is unset
//   'text'            literal: no expansion, no escapes
//   "text"            expanded; the escape character escapes only " $ and itself
//   <escape>c         c literally outside quotes, so \$HOME is "$HOME"
// A `word` may itself hold quotes and substitutions. A `$` followed by
// neither `{` nor a name stays a `$`; names are ASCII letters, digits and
// `_`, or all digits ($1), or one of docker's special parameters (@*#?-$!0),
// which are unset unless given. ${NAME#pat}, ${NAME%pat} and
// ${NAME/pat/rep} are refused with an error: the reference lists them only
// for Docker's pre-release syntax. Substitutions nest at most 32 deep.
//
// Which instructions are expanded, and with which variables (the values
// before the instruction: `ENV a=1 b=$a` sees the old `a`), is the caller's
// business. Errors name the word and what was wrong, without a line number.
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace berth::build {

// The variables in scope. A name that is absent is unset; a name mapped to
// "" is set and empty. Names compare case-sensitively, as on Linux.
using Variables = std::map<std::string, std::string, std::less<>>;

// One `key=value` of ENV or LABEL, or `name[=default]` of ARG, as written:
// quotes and escapes are still in both halves, nothing is expanded.
struct KeyValue {
  std::string key;
  std::string value;
  bool has_value = true;  // false for an ARG without a default
  bool operator==(const KeyValue&) const = default;
};

// Docker's word splitting: words end at whitespace outside quotes; quotes
// and escapes stay in the words. An escape character at the very end is
// dropped. Never fails: an unclosed quote runs to the end of the text.
std::vector<std::string> split_words(std::string_view text, char escape);

// ENV and LABEL arguments: `key=value ...` (each word split at its first
// `=`), or the old form `key value...` when the first word has no `=` (the
// rest of the text, spaces and all, is the one value). `what` ("ENV") names
// the instruction in errors.
base::Result<std::vector<KeyValue>> split_assignments(std::string_view text, char escape,
                                                      std::string_view what);

// ARG arguments: one or more `name` or `name=default`.
base::Result<std::vector<KeyValue>> split_arg_declarations(std::string_view text, char escape);

// One word: quotes removed, escapes applied, variables replaced. A word
// that would expand to more than 1 MiB is an error (expand_words too).
base::Result<std::string> expand_word(std::string_view word, const Variables& vars,
                                      char escape = '\\');

// A here-document body of COPY or ADD whose delimiter was not quoted:
// variables replaced as in a word, but quotes and escape characters stay as
// written (BuildKit's RawQuotes and RawEscapes); an unterminated quote is
// an error, as in BuildKit.
base::Result<std::string> expand_heredoc(std::string_view body, const Variables& vars,
                                         char escape = '\\');

// Expands like expand_word, then splits into words at whitespace that was
// neither quoted nor escaped (whitespace inside a variable's value splits
// too). A word that is only an empty quote ("") yields no word, as in docker.
base::Result<std::vector<std::string>> expand_words(std::string_view text, const Variables& vars,
                                                    char escape = '\\');

}  // namespace berth::build
