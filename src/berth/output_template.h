// `--format` templates, as docker and podman take them, over a JSON value.
//
// The subset of Go's text/template that people type at those tools:
//   {{.Field.Sub}}         a field (`.` is the whole value)
//   {{json .Field}}        the value as JSON; also {{.Field | json}}
//   {{upper .F}} {{lower .F}} {{len .List}} {{join .List ", "}}
//   "table ..."            a header row first, then every column aligned
// "\t" and "\n" written in the format are a tab and a newline, as in
// docker's CLI. A field the value lacks, an unknown function, or an
// unclosed action is an error naming it; nothing is printed then.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

class OutputTemplate {
 public:
  // `headers` names a table's columns by field ("ID" -> "CONTAINER ID");
  // a field not in it is headed by its name in capitals.
  static base::Result<OutputTemplate> parse(std::string_view format,
                                            const std::map<std::string, std::string>& headers = {});

  // Renders `rows` (one line each, a newline after each), with the header
  // and column alignment when the format began with "table".
  base::Result<std::string> render(const std::vector<nlohmann::json>& rows) const;

  struct Piece {
    bool is_action = false;
    std::string text;                            // literal text, or the action as written
    std::vector<std::vector<std::string>> pipe;  // commands, each a list of words
  };

 private:
  bool table_ = false;
  std::vector<Piece> pieces_;
  std::string header_;
};

// Pads tab-separated columns to a common width, three spaces apart (Go's
// tabwriter as docker sets it up).
std::string align_columns(const std::string& text);

}  // namespace berth
