// Unit tests of berth's pure pieces: --format templates, layer decompression,
// published ports.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <thread>

#include "berth/container/container_mounts.h"
#include "berth/container/container_spec.h"
#include "berth/docker_args.h"
#include "berth/go_text.h"
#include "berth/image/layer_decompressor.h"
#include "berth/network/port_mapping.h"
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

TEST(OutputTemplate, GoBlocksVariablesAndFunctions) {
  const json v = {
      {"Name", "web"},
      {"Env", {"A=1", "B=2"}},
      {"Mounts", json::array({{{"Source", "/a"}, {"Destination", "/x"}},
                              {{"Source", "/b"}, {"Destination", "/y"}}})},
      {"Networks", {{"front", {{"IPAddress", "10.0.0.2"}}}, {"back", {{"IPAddress", "10.1.0.2"}}}}},
      {"Ports", {{"80/tcp", json::array({{{"HostPort", "8080"}}})}}},
      {"ExitCode", 3},
      {"Running", false},
      {"Empty", json::array()},
      {"Health", nullptr}};
  auto one = [&](const std::string& f) { return render(f, {v}); };
  EXPECT_EQ(one("{{range .Env}}[{{.}}]{{end}}"), "[A=1][B=2]\n");
  EXPECT_EQ(one("{{range $i, $e := .Env}}{{$i}}={{$e}} {{end}}"), "0=A=1 1=B=2 \n");
  EXPECT_EQ(one("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}"), "/a:/x /b:/y \n");
  EXPECT_EQ(one("{{range $k, $v := .Networks}}{{$k}} {{$v.IPAddress}};{{end}}"),
            "back 10.1.0.2;front 10.0.0.2;\n");
  EXPECT_EQ(one("{{range .Empty}}x{{else}}none{{end}}"), "none\n");
  EXPECT_EQ(one("{{(index (index .Ports \"80/tcp\") 0).HostPort}}"), "8080\n");
  EXPECT_EQ(one("{{index .Env 1}} {{index .Networks \"nope\"}}"), "B=2 <no value>\n");
  EXPECT_EQ(one("{{if .Running}}up{{else if eq .ExitCode 3}}three{{else}}other{{end}}"), "three\n");
  EXPECT_EQ(one("{{if and (not .Running) (gt .ExitCode 2) (ne .Name \"db\")}}y{{end}}"), "y\n");
  EXPECT_EQ(one("{{if or .Health .Empty}}y{{else}}n{{end}}"), "n\n");
  EXPECT_EQ(one("{{with .Networks.front}}{{.IPAddress}}{{end}}{{with .Health}}h{{end}}"),
            "10.0.0.2\n");
  EXPECT_EQ(one("{{$n := .Name}}{{range .Env}}{{$n}}:{{.}} {{end}}{{$.ExitCode}}"),
            "web:A=1 web:B=2 3\n");
  EXPECT_EQ(
      one("{{printf \"%s=%05d|%-4s|%x|%q|%.2f|%v\" .Name .ExitCode \"ab\" 255 \"q\" 1.5 .Env}}"),
      "web=00003|ab  |ff|\"q\"|1.50|[A=1 B=2]\n");
  EXPECT_EQ(one("{{print 1 2 \"a\" \"b\"}}|{{println .Name 1}}"), "1 2ab|web 1\n\n");
  EXPECT_EQ(one("{{eq .Name \"db\" \"web\"}} {{lt 1 2.5}} {{le \"a\" \"b\"}} {{ge 2 3}}"),
            "true true true false\n");
  EXPECT_EQ(one("{{len .Env}} {{slice .Name 1}} {{split \"a,b\" \",\"}} {{title \"hi there\"}}"),
            "2 eb [a b] Hi There\n");
  EXPECT_EQ(one("{{- /* a comment */ -}}  {{.Name -}}  ,  {{- .ExitCode}}"), "web,3\n");
  // "\\n" typed in a format is a newline before the template is read (docker's CLI).
  EXPECT_EQ(one("{{`raw \\n`}} {{\"esc\\t\\u00e9\"}}"), "raw \n esc\t\u00e9\n");
  EXPECT_EQ(one("{{json .Mounts}}"),
            "[{\"Destination\":\"/x\",\"Source\":\"/a\"},"
            "{\"Destination\":\"/y\",\"Source\":\"/b\"}]\n");
}

TEST(OutputTemplate, GoTemplateMistakesAreNamed) {
  const json v = {{"Name", "web"}, {"Env", {"A=1"}}, {"N", 1}};
  auto one = [&](const std::string& f) { return render(f, {v}); };
  EXPECT_EQ(one("{{range .Env}}x"), "parse error: --format: a block has no {{end}}");
  EXPECT_EQ(one("{{end}}"), "parse error: --format: {{end}}: unexpected end");
  EXPECT_EQ(one("{{if}}x{{end}}"), "parse error: --format: {{if}}: missing value for if");
  EXPECT_EQ(one("{{range .Name}}x{{end}}"),
            "render error: --format: {{range .Name}}: range over string");
  EXPECT_EQ(one("{{index .Env 5}}"),
            "render error: --format: {{index .Env 5}}: index out of range: 5");
  EXPECT_EQ(one("{{eq .Name 1}}"),
            "render error: --format: {{eq .Name 1}}: eq: cannot compare "
            "string with number");
  EXPECT_EQ(one("{{$x}}"), "render error: --format: {{$x}}: undefined variable $x");
  EXPECT_EQ(
      one("{{.Name .N}}"),
      "render error: --format: {{.Name .N}}: a value is not a function: it takes no arguments");
  EXPECT_EQ(one("{{template \"x\"}}"),
            "parse error: --format: {{template \"x\"}}: template is not "
            "supported");
  EXPECT_EQ(one("{{\"open}}"), "parse error: --format: unclosed action at '{{\"open}}'");
  EXPECT_EQ(one("{{(len .Env}}"), "parse error: --format: {{(len .Env}}: unclosed '('");
  // Hostile sizes: deep nesting is refused before the stack is at risk,
  // and no template prints more than 16 MiB.
  std::string deep = "{{" + std::string(200, '(') + "1" + std::string(200, ')') + "}}";
  EXPECT_NE(one(deep).find("nested too deep"), std::string::npos);
  std::string blocks;
  for (int i = 0; i < 200; ++i) blocks += "{{if 1}}";
  for (int i = 0; i < 200; ++i) blocks += "{{end}}";
  EXPECT_NE(one(blocks).find("blocks nested too deep"), std::string::npos);
  EXPECT_EQ(one("{{printf \"%99999999999d\" 1 | len}}"), "9999\n");
  std::string big = "{{range $a := split (printf \"%9999s\" \"\") \"\"}}";
  big += "{{range $b := split (printf \"%9999s\" \"\") \"\"}}xx{{end}}{{end}}";
  EXPECT_NE(one(big).find("larger than 16 MiB"), std::string::npos);
}

// Go's strconv.Quote, whose output here was taken from `go run` (Go 1.19):
// what could mislead a terminal (a C1 CSI, a right-to-left override, a
// zero-width space) is escaped; other UTF-8 stays.
TEST(GoText, QuoteEscapesWhatGoEscapes) {
  EXPECT_EQ(berth::go_quote("a\u009b[31mred"), "\"a\\u009b[31mred\"");
  EXPECT_EQ(berth::go_quote("\u202e"
                            "evil"),
            "\"\\u202eevil\"");
  EXPECT_EQ(berth::go_quote("x\u00a0y"), "\"x\\u00a0y\"");
  EXPECT_EQ(berth::go_quote("zw\u200bj"), "\"zw\\u200bj\"");
  EXPECT_EQ(berth::go_quote("\U000e0041"), "\"\\U000e0041\"");
  EXPECT_EQ(berth::go_quote("\uf000"), "\"\\uf000\"");
  EXPECT_EQ(berth::go_quote("\u00e9\u4e2d\u2028"), "\"\u00e9\u4e2d\\u2028\"");
  EXPECT_EQ(berth::go_quote("\xff\xc3"), "\"\\xff\\xc3\"");
  EXPECT_EQ(berth::go_quote("q\"\\\t\x01"), "\"q\\\"\\\\\\t\\x01\"");
  EXPECT_EQ(berth::ellipsis("\u00e9"
                            "12345",
                            3),
            "\u00e9"
            "1\u2026");
  EXPECT_EQ(berth::ellipsis("abc", 3), "abc");
  EXPECT_EQ(berth::text_width("\u00e4\u2026x\xff"), 4u);
}

TEST(OutputTemplate, MapsGiveNoValueForAMissingKeyAsDockersDo) {
  const json v = {{"Config", {{"Labels", {{"k", "v"}}}, {"Env", json::array()}}},
                  {"Empty", json::object()}};
  EXPECT_EQ(render("{{.Config.Labels.nope}}|{{.Empty.x}}|{{index .Config.Labels \"nope\"}}|"
                   "{{if .Config.Labels.nope}}y{{else}}n{{end}}",
                   {v}),
            "<no value>|<no value>||n\n");
  EXPECT_EQ(render("{{.Config.Nope}}", {v}),
            "render error: --format: {{.Config.Nope}}: no field 'Nope'");
  EXPECT_EQ(render("{{printf \"%q\" \"\\xff\"}} {{1e20}} {{printf \"%d\" 1e20}}", {v}),
            "\"\\xff\" 100000000000000000000 100000000000000000000\n");
}

TEST(OutputTemplate, TableAlignsColumnsUnderHeaders) {
  std::vector<json> rows = {{{"ID", "abc"}, {"Names", "a-long-name"}},
                            {{"ID", "abcdef012345"}, {"Names", "b"}}};
  EXPECT_EQ(render("table {{.ID}}\\t{{.Names}}", rows, {{"ID", "CONTAINER ID"}}),
            "CONTAINER ID   NAMES\n"
            "abc            a-long-name\n"
            "abcdef012345   b\n");
  // docker's tabwriter: a narrow column is still 10 wide.
  EXPECT_EQ(render("table {{.Driver}}\\t{{.Name}}", {{{"Driver", "local"}, {"Name", "v"}}},
                   {{"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}}),
            "DRIVER    VOLUME NAME\n"
            "local     v\n");
}

TEST(OutputTemplate, MistakesAreNamed) {
  EXPECT_EQ(render("{{.Nope}}", {kContainer}),
            "render error: --format: {{.Nope}}: no field 'Nope'");
  EXPECT_EQ(render("{{.State.Nope}}", {kContainer}),
            "render error: --format: {{.State.Nope}}: no field 'Nope'");
  EXPECT_EQ(render("{{frob .Names}}", {kContainer}),
            "parse error: --format: {{frob .Names}}: unknown function 'frob'");
  EXPECT_EQ(render("{{.Names", {kContainer}),
            "parse error: --format: unclosed action at '{{.Names'");
  EXPECT_EQ(render("{{json}}", {kContainer}),
            "render error: --format: {{json}}: json takes 1 argument");
  EXPECT_EQ(render("{{ | json}}", {kContainer}),
            "parse error: --format: {{| json}}: empty command");
}

}  // namespace

namespace {

// Runs `shell` (which writes to stdout) and returns what it wrote.
std::string shell_output(const std::string& shell) {
  std::string out;
  std::FILE* p = ::popen(shell.c_str(), "r");
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

// decompress_stream over `input`, fed through a pipe by a thread: its
// output, or its error.
std::pair<bool, std::string> decompress(const std::string& input) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::thread feeder([&] {
    for (size_t off = 0; off < input.size();) {
      ssize_t n = ::write(fds[1], input.data() + off, std::min<size_t>(input.size() - off, 7777));
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  std::string out;
  auto s = berth::decompress_stream(
      fds[0],
      [&](const char* d, size_t n) -> base::Status {
        out.append(d, n);
        return {};
      },
      "test stream");
  feeder.join();
  ::close(fds[0]);
  return {static_cast<bool>(s), s ? out : s.error().message()};
}

// 3 MB of text that compresses: several output blocks, several input reads.
const std::string kPlain = shell_output("seq 1 400000");

// Equal to kPlain (+ `tail`), or what differs, briefly.
std::string same_as_plain(const std::pair<bool, std::string>& r, const std::string& tail = "") {
  if (!r.first) return r.second;
  if (r.second != kPlain + tail) return "different bytes, " + std::to_string(r.second.size());
  return "same";
}

TEST(LayerDecompressor, GzipZstdAndPlainGiveTheSameBytes) {
  ASSERT_GT(kPlain.size(), 2u << 20);
  EXPECT_EQ(same_as_plain(decompress(shell_output("seq 1 400000 | gzip -c"))), "same");
  EXPECT_EQ(same_as_plain(decompress(shell_output("seq 1 400000 | zstd -q -c"))), "same");
  EXPECT_EQ(same_as_plain(decompress(kPlain)), "same");
  EXPECT_EQ(decompress(""), std::make_pair(true, std::string()));
}

TEST(LayerDecompressor, ConcatenatedMembersAndFramesAreOneStream) {
  std::string two = shell_output("(seq 1 400000 | gzip -c; seq 5 9 | gzip -c)");
  EXPECT_EQ(same_as_plain(decompress(two), shell_output("seq 5 9")), "same");
  EXPECT_EQ(decompress(shell_output("(seq 1 3 | zstd -q -c; seq 4 6 | zstd -q -c)")),
            std::make_pair(true, std::string("1\n2\n3\n4\n5\n6\n")));
  EXPECT_EQ(decompress(shell_output("seq 1 3 | gzip -c") + std::string(512, '\0')),
            std::make_pair(true, std::string("1\n2\n3\n")))
      << "zero padding after the stream is allowed";
}

TEST(LayerDecompressor, DamageIsNamed) {
  std::string gz = shell_output("seq 1 400000 | gzip -c");
  auto truncated = decompress(gz.substr(0, gz.size() / 2));
  EXPECT_FALSE(truncated.first);
  EXPECT_EQ(truncated.second, "test stream: gzip: the stream is truncated");
  std::string flipped = gz;
  flipped[flipped.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  EXPECT_EQ(decompress(flipped),
            std::make_pair(false, std::string("test stream: gzip: CRC mismatch")));
  EXPECT_EQ(
      decompress(shell_output("seq 1 3 | gzip -c") + "junk"),
      std::make_pair(false, std::string("test stream: data after the end of the gzip stream")));
  std::string zs = shell_output("seq 1 400000 | zstd -q -c");
  EXPECT_EQ(decompress(zs.substr(0, zs.size() / 2)),
            std::make_pair(false, std::string("test stream: zstd: the stream is truncated")));
}

}  // namespace

namespace {

std::string mapped(const std::string& text) {
  auto p = berth::parse_port_mapping(text);
  return p ? p->text() : p.error().message();
}

TEST(PortMapping, TheFormsDockerTakes) {
  EXPECT_EQ(mapped("8080:80"), "0.0.0.0:8080->80/tcp");
  EXPECT_EQ(mapped("127.0.0.1:8080:80/udp"), "127.0.0.1:8080->80/udp");
  EXPECT_EQ(mapped("0.0.0.0:53:53/udp"), "0.0.0.0:53->53/udp");
  auto any = berth::parse_port_mapping("80");  // a free host port
  ASSERT_TRUE(any) << any.error().message();
  EXPECT_EQ(any->container_port, 80);
  EXPECT_NE(any->host_port, 0);
}

TEST(PortMapping, MistakesAreNamed) {
  EXPECT_EQ(mapped("8080:0"), "-p '8080:0': '0' is not a port (1-65535)");
  EXPECT_EQ(mapped("x:80"), "-p 'x:80': 'x' is not a port (1-65535)");
  EXPECT_EQ(mapped("1.2.3:8080:80"), "-p '1.2.3:8080:80': '1.2.3' is not an IPv4 address");
  EXPECT_EQ(mapped("80/sctp"), "-p '80/sctp': protocol 'sctp': expected tcp or udp");
  EXPECT_EQ(mapped("1:2:3:4"), "-p '1:2:3:4': expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]");
}

TEST(PortMapping, PublishAllTakesTheImagesExposedPorts) {
  auto ports = berth::exposed_ports(
      nlohmann::json::parse(R"({"config": {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}})"));
  ASSERT_TRUE(ports) << ports.error().message();
  ASSERT_EQ(ports->size(), 2u);
  std::set<std::string> kinds;
  for (const auto& p : *ports) {
    kinds.insert(std::to_string(p.container_port) + "/" + p.protocol);
    EXPECT_NE(p.host_port, 0);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"53/udp", "80/tcp"}));
  EXPECT_TRUE(berth::exposed_ports(nlohmann::json::parse(R"({"config": {}})"))->empty());
  auto bad =
      berth::exposed_ports(nlohmann::json::parse(R"({"config": {"ExposedPorts": {"http": {}}}})"));
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "image config: config.ExposedPorts: 'http' is not PORT[/tcp|udp]");
}

}  // namespace

TEST(ContainerSpec, DefaultsAreAsStrictAsDockers) {
  berth::RunOptions o;
  o.image = "img";
  o.command = {"true"};
  o.volumes = {"/tmp:/data:ro", "/tmp:/rw"};  // sources must exist
  berth::SpecPaths paths;
  paths.rootfs = "/x";
  auto plan = berth::plan_mounts("/nonexistent-root", o, nlohmann::json::object());
  ASSERT_TRUE(plan) << plan.error().message();
  paths.mounts = plan->oci;
  auto spec = berth::make_spec(o, nlohmann::json::object(), "id", paths);
  ASSERT_TRUE(spec) << spec.error().message();
  auto masked = (*spec)["linux"]["maskedPaths"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(masked.begin(), masked.end(), "/sys/devices/virtual/powercap"), masked.end());
  bool saw_ro = false, saw_rw = false;
  for (const auto& m : (*spec)["mounts"]) {
    auto opts = m.value("options", std::vector<std::string>{});
    auto has = [&](const char* o) { return std::find(opts.begin(), opts.end(), o) != opts.end(); };
    if (m["destination"] == "/proc") {
      EXPECT_TRUE(has("nosuid") && has("noexec") && has("nodev"));
    }
    if (m["destination"] == "/dev") {
      EXPECT_TRUE(has("nosuid") && has("noexec"));
    }
    if (m["destination"] == "/data") saw_ro = has("rro");  // recursive read-only
    if (m["destination"] == "/rw") saw_rw = !has("rro") && has("rw");
  }
  EXPECT_TRUE(saw_ro);
  EXPECT_TRUE(saw_rw);
}

namespace {

constexpr berth::FlagSpec kTestFlags[] = {
    {"detach", 'd', false, ""}, {"interactive", 'i', false, ""}, {"env", 'e', true, ""},
    {"publish", 'p', true, ""}, {"name", 0, true, ""},           {"rm", 0, false, ""}};

std::string parsed(std::vector<std::string> words) {
  auto a = berth::parse_docker_args(kTestFlags, words);
  if (!a) return "error: " + a.error().message();
  std::string out;
  for (const auto& [name, values] : a->values)
    for (const auto& v : values) out += name + "=" + v + " ";
  out += "|";
  for (const auto& p : a->positional) out += " " + p;
  return out;
}

TEST(DockerArgs, ReadsFlagsAsPflagDoesAndStopsAtTheFirstWord) {
  EXPECT_EQ(parsed({"-d", "--name", "web", "img", "ls", "-l"}), "detach=true name=web | img ls -l");
  EXPECT_EQ(parsed({"--name=a=b", "img"}), "name=a=b | img");
  EXPECT_EQ(parsed({"-di", "img"}), "detach=true interactive=true | img");
  EXPECT_EQ(parsed({"-dp", "80:80", "img"}), "detach=true publish=80:80 | img");
  EXPECT_EQ(parsed({"-p80", "-p=81", "-e", "A=1", "-eB=2", "img"}),
            "env=A=1 env=B=2 publish=80 publish=81 | img");
  EXPECT_EQ(parsed({"--rm=false", "-d=0", "img"}), "detach=false rm=false | img");
  EXPECT_EQ(parsed({"--name", "--rm", "img"}), "name=--rm | img");  // a value may look like a flag
  EXPECT_EQ(parsed({"--", "-img", "-x"}), "| -img -x");
  EXPECT_EQ(parsed({"-", "x"}), "| - x");
  EXPECT_EQ(parsed({"img", "--name", "x"}), "| img --name x");
  EXPECT_EQ(parsed({}), "|");
}

TEST(DockerArgs, MistakesAreNamedInDockersWords) {
  EXPECT_EQ(parsed({"--nope", "img"}), "error: unknown flag: --nope");
  EXPECT_EQ(parsed({"-dx", "img"}), "error: unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(parsed({"--name"}), "error: flag needs an argument: --name");
  EXPECT_EQ(parsed({"-de"}), "error: flag needs an argument: 'e' in -e");
  EXPECT_EQ(parsed({"--rm=yes", "img"}),
            "error: invalid argument \"yes\" for \"--rm\" flag: not a boolean");
  EXPECT_EQ(parsed({"---rm", "img"}), "error: bad flag syntax: ---rm");
  EXPECT_EQ(parsed({"--=x", "img"}), "error: bad flag syntax: --=x");
  EXPECT_EQ(parsed({"--n\x1b[2Jope", "img"}), "error: unknown flag: --n\\x1b[2Jope");
  auto help = berth::parse_docker_args(kTestFlags, std::vector<std::string>{"--help", "img"});
  ASSERT_TRUE(help);
  EXPECT_TRUE(help->help);
}

}  // namespace
