// Go's text/template over JSON values: the part of it docker and podman
// users type in --format and `inspect -f`.
//
//   {{.Field.Sub}} {{.}} {{$}} {{$v.Field}}      fields and variables
//   {{if P}} .. {{else if P}} .. {{else}} .. {{end}}
//   {{range P}} .. {{else}} .. {{end}}           also range $v := P, range $k, $v := P
//   {{with P}} .. {{else}} .. {{end}}
//   {{$x := P}} {{$x = P}}                       variables, scoped to their block
//   {{P | f a b}}  {{f (g .X) "s"}}              pipelines, parentheses
//   {{- trims}} {{trims -}}  {{/* comment */}}
//   "strings" with Go escapes, `raw strings`, numbers, true, false, nil
// Functions: Go's and, or, not, len, index, slice, print, printf, println,
// eq, ne, lt, le, gt, ge; docker's json, join, split, upper, lower, title,
// pad, truncate. Values print as Go's %v does (strings bare, [a b],
// map[k:v]); a null prints as <no value>.
//
// A field that the value lacks, an unknown function, a wrong number of
// arguments, or a template that does not parse is an error naming the
// action as written ("{{.Nope}}: no field 'Nope'"); nothing is printed then.
// Thread-safety: a parsed Template is immutable; execute() is reentrant.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

class GoTemplate {
 public:
  struct Tree;

  static base::Result<GoTemplate> parse(std::string_view text);
  base::Result<std::string> execute(const nlohmann::json& dot) const;

  // For docker's "table": the template's top-level text with each action
  // replaced by the name of the first field it reads (`names` renames
  // some: "ID" -> "CONTAINER ID"; the rest in capitals). Blocks give "".
  std::string header(const std::map<std::string, std::string>& names) const;

 private:
  std::shared_ptr<const Tree> tree_;
};

// Go's %v of a value: strings bare, lists as [a b], maps as map[k:v].
std::string go_print(const nlohmann::json& v);

}  // namespace berth
