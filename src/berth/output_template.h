// `--format` templates, as docker and podman take them, over JSON rows:
// Go's text/template as go_template.h has it (fields, range, if, with,
// index, printf, eq ...), plus docker's own conventions:
//   "table ..."   a header row first, then every column aligned
//   "\t" "\n"     written in the format, are a tab and a newline
// A field the value lacks, an unknown function, or an unclosed action is
// an error naming it; nothing is printed then.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/go_template.h"

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

 private:
  bool table_ = false;
  GoTemplate template_;
  std::string header_;
};

// Pads tab-separated columns to a common width, three spaces apart (Go's
// tabwriter as docker sets it up).
std::string align_columns(const std::string& text);

}  // namespace berth
