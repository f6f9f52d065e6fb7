// Unit tests of berth's pure pieces: --format templates.
#include <gtest/gtest.h>

#include "berth/output_template.h"

namespace {

using berth::OutputTemplate;
using nlohmann::json;

std::string render(const std::string& format, const std::vector<json>& rows,
                   const std::map<std::string, std::string>& headers = {}) {
  auto t = OutputTemplate::parse(format, headers);
  if (!t) return "parse error: " + t.error().message();
  auto out = t->render(rows);
  return out ? *out : "render error: " + out.error().message();
}

const json kContainer = {{"ID", "0123456789ab"},
                         {"Names", "web"},
                         {"State", {{"Status", "running"}, {"Pid", 42}}},
                         {"Args", {"sh", "-c", "true"}},
                         {"Labels", {{"a", "1"}, {"b", "2"}}}};

TEST(OutputTemplate, FieldsNestedFieldsAndLiteralText) {
  EXPECT_EQ(render("{{.Names}} is {{.State.Status}} as pid {{ .State.Pid }}", {kContainer}),
            "web is running as pid 42\n");
  EXPECT_EQ(render("{{.Names}}", {kContainer, {{"Names", "db"}}}), "web\ndb\n");
}

TEST(OutputTemplate, FunctionsAndPipes) {
  EXPECT_EQ(render("{{json .State}}", {kContainer}), "{\"Pid\":42,\"Status\":\"running\"}\n");
  EXPECT_EQ(render("{{.State | json}}", {kContainer}), "{\"Pid\":42,\"Status\":\"running\"}\n");
  EXPECT_EQ(render("{{upper .Names}} {{.Names | upper | lower}}", {kContainer}), "WEB web\n");
  EXPECT_EQ(render("{{join .Args \",\"}} {{len .Args}}", {kContainer}), "sh,-c,true 3\n");
  EXPECT_EQ(render("{{.Args}} {{.Labels}}", {kContainer}), "[sh -c true] map[a:1 b:2]\n");
}

TEST(OutputTemplate, TableAlignsColumnsUnderHeaders) {
  std::vector<json> rows = {{{"ID", "abc"}, {"Names", "a-long-name"}},
                            {{"ID", "abcdef012345"}, {"Names", "b"}}};
  EXPECT_EQ(render("table {{.ID}}\\t{{.Names}}", rows, {{"ID", "CONTAINER ID"}}),
            "CONTAINER ID   NAMES\n"
            "abc            a-long-name\n"
            "abcdef012345   b\n");
}

TEST(OutputTemplate, MistakesAreNamed) {
  EXPECT_EQ(render("{{.Nope}}", {kContainer}),
            "render error: --format: {{.Nope}}: no field 'Nope'");
  EXPECT_EQ(render("{{.State.Nope}}", {kContainer}),
            "render error: --format: {{.State.Nope}}: no field 'Nope'");
  EXPECT_EQ(render("{{frob .Names}}", {kContainer}),
            "render error: --format: {{frob .Names}}: unknown function 'frob'");
  EXPECT_EQ(render("{{.Names", {kContainer}),
            "parse error: --format: unclosed action at '{{.Names'");
  EXPECT_EQ(render("{{json}}", {kContainer}),
            "render error: --format: {{json}}: json takes 1 argument");
  EXPECT_EQ(render("{{ | json}}", {kContainer}),
            "parse error: --format: {{ | json}}: empty command");
}

}  // namespace
