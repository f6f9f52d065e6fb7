#include "berth/build/builder.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/sys.h"
#include "base/text_file.h"
#include "base/timestamp.h"
#include "berth/build/add_archives.h"
#include "berth/build/build_cache.h"
#include "berth/build/copy_files.h"
#include "berth/build/dockerfile.h"
#include "berth/build/dockerignore.h"
#include "berth/build/heredoc_files.h"
#include "berth/build/run_step.h"
#include "berth/build/stage_image.h"
#include "berth/build/stage_scheduler.h"
#include "berth/build/step_root.h"
#include "berth/build/text.h"
#include "berth/build/word_expansion.h"
#include "berth/container/container_spec.h"
#include "berth/image/reference.h"
#include "berth/registry/puller.h"
#include "berth/registry/registry_settings.h"
#include "oci/wait_forwarding.h"

namespace berth::build {
namespace {

namespace sys = base::sys;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxContextFile = kMaxDockerfileBytes;

// JSON text of `j`; bytes that are not UTF-8 become U+FFFD instead of an exception.
std::string text_of(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The ARGs docker predefines (the Dockerfile reference, "Predefined ARGs").
constexpr const char* kProxyArgs[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                      "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                      "ALL_PROXY",  "all_proxy"};

// A port number (0-65535), or nullopt.
std::optional<unsigned> port_number(const std::string& s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
  unsigned n = static_cast<unsigned>(std::stoul(s));
  if (n > 65535) return std::nullopt;
  return n;
}

// A small decimal number, or nullopt (never an exception).
std::optional<size_t> small_number(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
  return static_cast<size_t>(std::stoul(s));
}

// "a/../b" under "/": WORKDIR and destinations as the container sees them.
std::string clean_absolute(const std::string& path) {
  return clean_path("/" + path);
}

// Go's time.ParseDuration for HEALTHCHECK's flags: "30s", "1m30s", "500ms".
base::Result<int64_t> duration_ns(const std::string& text, const std::string& flag) {
  static const std::map<std::string, int64_t> kUnits = {{"ns", 1},          {"us", 1000},
                                                        {"ms", 1000000},    {"s", 1000000000},
                                                        {"m", 60000000000}, {"h", 3600000000000}};
  double total = 0;  // in nanoseconds; a double cannot overflow on the way
  size_t i = 0;
  auto bad = [&] {
    return base::fail_msg(
        fmt::format("HEALTHCHECK --{}={}: not a duration (30s, 1m30s)", flag, text));
  };
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return bad();
    double value = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    auto unit = kUnits.find(text.substr(unit_start, i - unit_start));
    if (unit == kUnits.end()) return bad();
    total += value * static_cast<double>(unit->second);
    if (total > 1e18) return bad();  // about 31 years: no health check waits longer
  }
  return static_cast<int64_t>(total);
}

struct Stage {
  size_t index = 0;
  std::string name;  // lower-cased AS name, or ""
  const Instruction* from = nullptr;
  std::vector<const Instruction*> body;
  std::string label() const { return name.empty() ? fmt::format("stage-{}", index) : name; }
};

// What a stage carries from one instruction to the next.
struct StageState {
  StageImage image;
  Variables args;  // the stage's ARGs that have a value
  std::vector<std::string> shell = {"/bin/sh", "-c"};
  bool cmd_set_here = false;
  size_t step_no = 0;  // the progress number of the step running now
  // Bytes of ENV, ARG and LABEL keys and values set so far (a value set
  // again counts again). Bounded, since `ENV bN=$a` copies 1 MiB per line.
  size_t variable_bytes = 0;
};

constexpr size_t kMaxVariableBytes = 4 << 20;

base::Status count_variable(StageState& st, const std::string& key, const std::string& value) {
  st.variable_bytes += key.size() + value.size();
  if (st.variable_bytes > kMaxVariableBytes)
    return base::fail_msg("the stage's ENV, ARG and LABEL values pass 4 MiB");
  return {};
}

std::vector<std::string> env_list(StageImage& image) {
  std::vector<std::string> env;
  auto& e = image.settings()["Env"];
  if (e.is_array())
    for (const auto& v : e)
      if (v.is_string()) env.push_back(v.get<std::string>());
  return env;
}

void set_env(StageImage& image, const std::string& key, const std::string& value) {
  std::vector<std::string> env = env_list(image);
  std::string prefix = key + "=";
  auto it = std::find_if(env.begin(), env.end(),
                         [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  if (it != env.end())
    *it = prefix + value;
  else
    env.push_back(prefix + value);
  image.settings()["Env"] = env;
}

class Builder {
 public:
  Builder(const Paths& paths, const BuildOptions& o, std::FILE* progress)
      : paths_(paths), o_(o), progress_(progress), store_(paths.root), cache_(paths.root) {}

  base::Result<BuildResult> run() {
    if (!o_.platform.empty() && o_.platform != "linux/amd64" && o_.platform != "linux")
      return base::fail_msg(
          fmt::format("--platform {}: berth builds for linux/amd64 only", o_.platform));
    if (o_.network != "none" && o_.network != "bridge" && o_.network != "host" &&
        o_.network != "default")
      return base::fail_msg(fmt::format(
          "--network {}: berth build gives RUN steps none, bridge or host", o_.network));
    sweep_stale_steps(paths_);
    TRY_STATUS(load_inputs());
    TRY_STATUS(split_stages());
    size_t target = TRY(target_stage());
    std::map<size_t, std::set<size_t>> needed;  // each stage, with the stages it needs
    TRY_STATUS(collect_needed(target, needed));
    // Independent stages side by side, two at a time where there are two cores.
    size_t width = std::min<size_t>(2, std::max(1U, std::thread::hardware_concurrency()));
    TRY_STATUS(run_stages(
        needed, width,
        [&](size_t i) -> base::Status {
          StageImage image = TRY(build_stage(stages_[i]));
          std::lock_guard lock(mutex_);
          built_[i] = std::move(image);
          return {};
        },
        [&] { stopped_ = true; }));
    TRY_STATUS(not_interrupted());  // a Ctrl-C during the last step tags nothing
    StageImage& final_image = built_[target];
    for (const auto& [k, v] : o_.labels) final_image.settings()["Labels"][k] = v;
    for (const auto& [name, value] : o_.build_args)
      if (!used_args_.contains(name) &&  // (the stages are done: no lock needed)
          std::find(std::begin(kProxyArgs), std::end(kProxyArgs), name) == std::end(kProxyArgs))
        say(fmt::format("[warning] --build-arg {} was not consumed by any stage", name));
    BuildResult result;
    result.manifest_digest = TRY(write_image(store_, final_image, result.image_id));
    say(fmt::format("writing image {} done", result.image_id));
    for (const auto& tag : o_.tags) {
      Reference ref = TRY(parse_reference(tag));
      TRY_STATUS(store_.tag(ref.full(), result.manifest_digest));
      say(fmt::format("naming to {} done", ref.full()));
    }
    if (!o_.iidfile.empty()) TRY_STATUS(base::write_text(o_.iidfile, result.image_id));
    return result;
  }

 private:
  void say(const std::string& line) {
    if (!o_.quiet && progress_) std::fprintf(progress_, "%s\n", line.c_str());
  }

  // --- inputs -----------------------------------------------------------
  base::Status load_inputs() {
    std::string text;
    bool from_stdin = o_.context == "-" || o_.dockerfile == "-";
    if (o_.context != "-") {
      context_ = TRY_CTX(sys::open(o_.context, O_PATH | O_DIRECTORY), "build context");
      auto ignore = base::read_regular_beneath(context_.get(), ".dockerignore",
                                               kMaxDockerignoreBytes, ".dockerignore");
      if (ignore) {
        ignore_.emplace(TRY(Dockerignore::parse(*ignore)));
      } else if (ignore.error().code() != ENOENT) {
        return base::fail(std::move(ignore).error());
      }
    }
    if (from_stdin) {
      text = TRY(read_stdin());
    } else if (o_.dockerfile.empty()) {
      text = TRY(base::read_regular_beneath(context_.get(), "Dockerfile", kMaxContextFile + 1,
                                            "Dockerfile"));
    } else {
      text = TRY(base::read_text_capped(o_.dockerfile, kMaxContextFile + 1));
    }
    file_ = TRY(parse_dockerfile(text));
    for (const auto& w : file_.warnings) say("[warning] " + w);
    return {};
  }

  static base::Result<std::string> read_stdin() {
    std::string text;
    char buf[65536];
    for (;;) {
      size_t n = TRY(sys::read(STDIN_FILENO, buf, sizeof buf, "standard input"));
      if (n == 0) return text;
      text.append(buf, n);
      if (text.size() > kMaxContextFile)
        return base::fail_msg(fmt::format("Dockerfile: larger than {} bytes", kMaxContextFile));
    }
  }

  base::Status split_stages() {
    // Docker's automatic platform ARGs, for FROM lines and for stages that
    // declare them.
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"BUILDPLATFORM", "linux/amd64"},
             {"BUILDOS", "linux"},
             {"BUILDARCH", "amd64"},
             {"TARGETPLATFORM", "linux/amd64"},
             {"TARGETOS", "linux"},
             {"TARGETARCH", "amd64"},
             {"TARGETVARIANT", ""}})
      global_args_[name] = value;
    for (const Instruction& ins : file_.instructions) {
      if (ins.keyword == "FROM") {
        Stage s;
        s.index = stages_.size();
        s.name = ins.stage;
        s.from = &ins;
        stages_.push_back(std::move(s));
      } else if (stages_.empty()) {
        // Only ARG may come before the first FROM (the parser checks it).
        for (const auto& kv : ins.pairs) {
          std::string value;
          bool set = false;
          if (auto given = o_.build_args.find(kv.key); given != o_.build_args.end()) {
            value = given->second;
            set = true;
            used_args_.insert(kv.key);  // before any stage runs
          } else if (kv.has_value) {
            value = TRY(at_line(ins, expand_word(kv.value, global_args_, file_.escape)));
            set = true;
          }
          if (set) global_args_[kv.key] = value;
          global_names_.insert(kv.key);
        }
      } else {
        stages_.back().body.push_back(&ins);
      }
    }
    return {};
  }

  base::Result<size_t> target_stage() {
    if (o_.target.empty()) return stages_.size() - 1;
    for (const auto& s : stages_)
      if (s.name == ascii_lower(o_.target)) return s.index;
    return base::fail_msg(fmt::format("--target {}: no stage has that name", o_.target));
  }

  // The stage an expanded --from= or FROM names, when it is one.
  std::optional<size_t> stage_named(const std::string& name, size_t before) const {
    for (size_t i = 0; i < before; ++i)
      if (!stages_[i].name.empty() && stages_[i].name == ascii_lower(name)) return i;
    if (auto i = small_number(name); i && *i < before) return *i;
    return std::nullopt;
  }

  base::Status collect_needed(size_t i, std::map<size_t, std::set<size_t>>& needed) {
    if (needed.contains(i)) return {};
    std::set<size_t>& deps = needed[i];
    const Stage& s = stages_[i];
    std::string base =
        TRY(at_line(*s.from, expand_word(s.from->args.at(0), global_args_, file_.escape)));
    if (auto dep = stage_named(base, i)) {
      deps.insert(*dep);
      TRY_STATUS(collect_needed(*dep, needed));
    }
    for (const Instruction* ins : s.body) {
      const Flag* from = ins->flag("from");
      if ((ins->keyword == "COPY" || ins->keyword == "ADD") && from) {
        // Expanded with the global ARGs: a stage's own ARGs are not known yet.
        std::string name = TRY(at_line(*ins, expand_word(from->value, global_args_, file_.escape)));
        if (auto dep = stage_named(name, i)) {
          deps.insert(*dep);  // (map nodes stay put as the map grows)
          TRY_STATUS(collect_needed(*dep, needed));
        }
      }
    }
    return {};
  }

  // --- stages -----------------------------------------------------------
  template <typename T>
  base::Result<T> at_line(const Instruction& ins, base::Result<T> r) {
    if (r) return r;
    return base::fail(
        std::move(r).error().context(fmt::format("Dockerfile:{}: {}", ins.line, ins.keyword)));
  }

  base::Result<StageImage> base_image(const Stage& s) {
    const Instruction& from = *s.from;
    std::string name = TRY(at_line(from, expand_word(from.args.at(0), global_args_, file_.escape)));
    if (const Flag* platform = from.flag("platform")) {
      std::string p = TRY(at_line(from, expand_word(platform->value, global_args_, file_.escape)));
      if (p != "linux/amd64" && p != "linux")
        return base::fail_msg(
            fmt::format("Dockerfile:{}: FROM --platform={}: berth builds for "
                        "linux/amd64 only",
                        from.line, p));
    }
    if (ascii_lower(name) == "scratch") return scratch_image();
    if (auto stage = stage_named(name, s.index)) return built_stage(*stage);
    auto image = image_named(name);
    if (!image)
      return base::fail_msg(
          fmt::format("Dockerfile:{}: FROM {}: {}", from.line, name, image.error().message()));
    return image;
  }

  // An image of the store, pulled first when missing (always, with
  // --pull=always; never, with --pull=never) with the store's registry
  // settings: what FROM and COPY --from=IMAGE name when it is no stage.
  base::Result<StageImage> image_named(const std::string& name) {
    bool have = static_cast<bool>(store_.resolve(name));
    if (o_.pull == "always" || (!have && o_.pull != "never")) {
      Reference ref = TRY(parse_reference(name));
      say(fmt::format("pulling {}", ref.full()));
      // As `berth pull` would: the store's insecure registries, CAs and logins.
      PullOptions pull;
      pull.registry = TRY(registry_options(paths_.root, ref.registry, false));
      TRY(pull_image(store_, ref, pull));
    }
    return stored_image(store_, name);
  }

  base::Result<StageImage> build_stage(const Stage& s) {
    StageState st;
    st.image = TRY(base_image(s));
    // A stage starts with the image's settings but none of its history of
    // the previous stage's args; global ARGs must be declared again.
    progress_step(s, st, 0, fmt::format("FROM {}", s.from->raw));
    if (st.image.settings().contains("Shell") && st.image.settings()["Shell"].is_array())
      st.shell = st.image.settings()["Shell"].get<std::vector<std::string>>();
    TRY_STATUS(run_triggers(s, st));
    for (size_t k = 0; k < s.body.size(); ++k) {
      TRY_STATUS(not_interrupted());
      const Instruction& ins = *s.body[k];
      std::string flags;
      for (const Flag& f : ins.flags)
        flags += fmt::format("--{}{}{} ", f.name, f.has_value ? "=" : "", f.value);
      progress_step(s, st, k + 1, fmt::format("{} {}{}", ins.keyword, flags, ins.raw));
      auto done = instruction(s, st, ins);
      if (!done)
        return base::fail(std::move(done).error().context(
            fmt::format("Dockerfile:{}: {}", ins.line, ins.keyword)));
    }
    return st.image;
  }

  // The base image's ONBUILD triggers, right after FROM and in order, as
  // docker runs them; they are not passed on (docker clears them in the
  // child). Each is parsed again as the child's instruction.
  base::Status run_triggers(const Stage& s, StageState& st) {
    nlohmann::json triggers = st.image.settings().value("OnBuild", nlohmann::json::array());
    st.image.settings().erase("OnBuild");
    if (!triggers.is_array()) return {};
    for (const auto& t : triggers) {
      std::string text = t.get<std::string>();  // a list of strings (stored_image checked)
      auto where = [&](const base::Error& e) {
        return base::Error(e).context(
            fmt::format("Dockerfile:{}: FROM {}: ONBUILD {}", s.from->line, s.from->raw, text));
      };
      auto parsed = parse_instruction(text, file_.escape);
      if (!parsed) return base::fail(where(parsed.error()));
      Instruction ins = std::move(*parsed);
      ins.line = s.from->line;
      if (ins.keyword == "FROM" || ins.keyword == "ONBUILD" || ins.keyword == "MAINTAINER")
        return base::fail(
            where(base::Error::msg(fmt::format("{} may not be a trigger", ins.keyword))));
      if (!ins.heredocs.empty())
        return base::fail(where(base::Error::msg("a trigger cannot carry a here-document")));
      TRY_STATUS(not_interrupted());
      progress_step(s, st, 0, "ONBUILD " + text);
      if (auto done = instruction(s, st, ins); !done) return base::fail(where(done.error()));
    }
    return {};
  }

  // Ctrl-C (or TERM, HUP) ends a running RUN at once (oci::InterruptsKill)
  // and the build at the next step, where returning releases its mounts and
  // directories.
  // A stage side by side with one that failed stops the same way.
  base::Status not_interrupted() const {
    if (stopped_) return base::fail_msg("stopped: another stage failed");
    int sig = oci::interrupt_signal();
    if (sig == 0) return {};
    const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    return base::fail_msg(fmt::format("interrupted by {}", name));
  }

  void progress_step(const Stage& s, StageState& st, size_t k, const std::string& text) {
    st.step_no = ++step_no_;
    std::string shown = text.size() > 200 ? text.substr(0, 200) + "..." : text;
    say(fmt::format("#{} [{} {}/{}] {}", st.step_no, s.label(), k + 1, s.body.size() + 1, shown));
  }

  // A stage built already (the scheduler ran it before any stage that names it).
  bool has_built(size_t i) {
    std::lock_guard lock(mutex_);
    return built_.contains(i);
  }

  StageImage built_stage(size_t i) {
    std::lock_guard lock(mutex_);
    return built_.at(i);
  }

  void used_arg(const std::string& name) {
    std::lock_guard lock(mutex_);
    used_args_.insert(name);
  }

  Variables scope(StageState& st) {
    Variables v = st.args;
    for (const std::string& e : env_list(st.image)) {
      size_t eq = e.find('=');
      if (eq != std::string::npos) v[e.substr(0, eq)] = e.substr(eq + 1);
    }
    return v;
  }

  base::Result<std::string> expand(StageState& st, const std::string& word) {
    return expand_word(word, scope(st), file_.escape);
  }

  base::Status instruction(const Stage& s, StageState& st, const Instruction& ins) {
    const std::string& k = ins.keyword;
    nlohmann::json& cfg = st.image.settings();
    if (k == "ARG") {
      for (const auto& kv : ins.pairs) {
        if (auto given = o_.build_args.find(kv.key); given != o_.build_args.end()) {
          st.args[kv.key] = given->second;
          used_arg(kv.key);
        } else if (kv.has_value) {
          st.args[kv.key] = TRY(expand(st, kv.value));
        } else if (auto global = global_args_.find(kv.key); global != global_args_.end()) {
          st.args[kv.key] = global->second;  // a global ARG declared again
        }
        if (auto set = st.args.find(kv.key); set != st.args.end())
          TRY_STATUS(count_variable(st, kv.key, set->second));
      }
      return config_step(st, "ARG " + ins.raw);
    }
    if (k == "ENV") {
      Variables before = scope(st);  // `ENV a=1 b=$a` sees the old a
      std::string shown = "ENV";
      for (const auto& kv : ins.pairs) {
        std::string key = TRY(expand_word(kv.key, before, file_.escape));
        std::string value = TRY(expand_word(kv.value, before, file_.escape));
        TRY_STATUS(count_variable(st, key, value));
        set_env(st.image, key, value);
        shown += fmt::format(" {}={}", key, value);
      }
      return config_step(st, shown);
    }
    if (k == "LABEL") {
      Variables vars = scope(st);
      std::string shown = "LABEL";
      for (const auto& kv : ins.pairs) {
        std::string key = TRY(expand_word(kv.key, vars, file_.escape));
        std::string value = TRY(expand_word(kv.value, vars, file_.escape));
        TRY_STATUS(count_variable(st, key, value));
        cfg["Labels"][key] = value;
        shown += fmt::format(" {}={}", key, value);
      }
      return config_step(st, shown);
    }
    if (k == "USER") {
      cfg["User"] = TRY(expand(st, ins.raw));
      return config_step(st, "USER " + cfg["User"].get<std::string>());
    }
    if (k == "STOPSIGNAL") {
      cfg["StopSignal"] = TRY(expand(st, ins.raw));
      return config_step(st, "STOPSIGNAL " + cfg["StopSignal"].get<std::string>());
    }
    if (k == "MAINTAINER") {
      st.image.config["author"] = ins.raw;
      return config_step(st, "MAINTAINER " + ins.raw);
    }
    if (k == "EXPOSE") {
      for (std::string port : TRY(expand_words(ins.raw, scope(st), file_.escape))) {
        std::string proto = "tcp";
        if (auto slash = port.find('/'); slash != std::string::npos) {
          proto = ascii_lower(port.substr(slash + 1));
          port = port.substr(0, slash);
        }
        // A range (8000-8010) exposes each port in it, as docker's.
        auto dash = port.find('-');
        auto first = port_number(port.substr(0, dash));
        auto last = dash == std::string::npos ? first : port_number(port.substr(dash + 1));
        if (!first || !last || *last < *first ||
            (proto != "tcp" && proto != "udp" && proto != "sctp"))
          return base::fail_msg(
              fmt::format("'{}/{}': not a port (80, 80/tcp, 53/udp, 8000-8010)", port, proto));
        for (unsigned p = *first; p <= *last; ++p)
          cfg["ExposedPorts"][fmt::format("{}/{}", p, proto)] = nlohmann::json::object();
      }
      return config_step(st, "EXPOSE " + ins.raw);
    }
    if (k == "VOLUME") {
      std::vector<std::string> paths =
          ins.json ? ins.args : TRY(expand_words(ins.raw, scope(st), file_.escape));
      for (const auto& p : paths) {
        if (p.empty()) return base::fail_msg("an empty volume path");
        cfg["Volumes"][p] = nlohmann::json::object();
      }
      return config_step(st, "VOLUME " + text_of(paths));
    }
    if (k == "SHELL") {
      if (!ins.json || ins.args.empty())
        return base::fail_msg("SHELL needs the JSON form: SHELL [\"/bin/bash\", \"-c\"]");
      st.shell = ins.args;
      cfg["Shell"] = ins.args;
      return config_step(st, "SHELL " + text_of(ins.args));
    }
    if (k == "CMD" || k == "ENTRYPOINT") {
      std::vector<std::string> args = ins.json ? ins.args : st.shell;
      if (!ins.json) args.push_back(ins.raw);
      std::string field = k == "CMD" ? "Cmd" : "Entrypoint";
      cfg[field] = args;
      if (k == "CMD") st.cmd_set_here = true;
      // An ENTRYPOINT resets a Cmd that came from the base image.
      if (k == "ENTRYPOINT" && !st.cmd_set_here) cfg["Cmd"] = nullptr;
      return config_step(st, k + " " + text_of(args));
    }
    if (k == "HEALTHCHECK") return healthcheck(st, ins);
    if (k == "ONBUILD") {
      if (ins.inner.empty()) return base::fail_msg("ONBUILD needs an instruction");
      if (!ins.inner.front().heredocs.empty())
        return base::fail_msg("ONBUILD with a here-document is not supported by berth build yet");
      // The trigger as written, flags included: a child build parses it again.
      cfg["OnBuild"].push_back(ins.raw);
      return config_step(st, "ONBUILD " + ins.raw);
    }
    if (k == "WORKDIR") return workdir(st, ins);
    if (k == "RUN") return run(st, ins);
    if (k == "COPY" || k == "ADD") return copy(s, st, ins);
    return base::fail_msg(fmt::format("{} is not supported by berth build", k));
  }

  // A step that changes only the config: history, and the chain moves on.
  base::Status config_step(StageState& st, const std::string& shown) {
    st.image.record(shown, true);
    st.image.chain = BuildCache::key(st.image.chain, {"config", shown});
    return {};
  }

  base::Status healthcheck(StageState& st, const Instruction& ins) {
    nlohmann::json hc;
    if (!ins.args.empty() && ins.args.front() == "NONE") {
      hc["Test"] = {"NONE"};
    } else {
      if (ins.inner.empty()) return base::fail_msg("HEALTHCHECK needs CMD or NONE");
      const Instruction& cmd = ins.inner.front();
      std::vector<std::string> test = cmd.json ? cmd.args : std::vector<std::string>{cmd.raw};
      test.insert(test.begin(), cmd.json ? "CMD" : "CMD-SHELL");
      hc["Test"] = test;
      for (const char* flag : {"interval", "timeout", "start-period", "start-interval"}) {
        if (const Flag* f = ins.flag(flag)) {
          std::string field = flag == std::string("interval")       ? "Interval"
                              : flag == std::string("timeout")      ? "Timeout"
                              : flag == std::string("start-period") ? "StartPeriod"
                                                                    : "StartInterval";
          hc[field] = TRY(duration_ns(f->value, flag));
        }
      }
      if (const Flag* f = ins.flag("retries")) {
        bool digits = !f->value.empty() && f->value.size() < 6 &&
                      std::all_of(f->value.begin(), f->value.end(), ::isdigit);
        if (!digits)
          return base::fail_msg(fmt::format("--retries={}: not a number of retries", f->value));
        hc["Retries"] = std::stoi(f->value);
      }
    }
    st.image.settings()["Healthcheck"] = hc;
    return config_step(st, "HEALTHCHECK " + text_of(hc));
  }

  // A step that makes a layer: reused from the cache when its key is known.
  template <typename Work>
  base::Status layer_step(StageState& st, std::vector<std::string> key_fields,
                          const std::string& created_by, Work work) {
    key_fields.emplace_back(LayerCompressor::media_suffix(o_.compression));
    std::string key = BuildCache::key(st.image.chain, key_fields);
    auto started = Clock::now();
    if (!o_.no_cache) {
      if (auto hit = cache_.find(store_, key)) {
        st.image.add_layer(hit->layer, store_.layers().path(hit->layer.diff_id), created_by,
                           hit->created);
        st.image.chain = key;
        say(fmt::format("#{} CACHED", st.step_no));
        return {};
      }
    }
    StepRoot root = TRY(StepRoot::mount(paths_.root, st.image.layer_dirs));
    TRY_STATUS(work(root));
    CacheEntry made{TRY(root.commit(store_, o_.compression)), base::now_rfc3339()};
    TRY_STATUS(cache_.put(key, made));
    st.image.add_layer(made.layer, store_.layers().path(made.layer.diff_id), created_by,
                       made.created);
    st.image.chain = key;
    say(fmt::format("#{} DONE {:.1f}s", st.step_no,
                    std::chrono::duration<double>(Clock::now() - started).count()));
    return {};
  }

  std::string workdir_of(StageState& st) {
    std::string w = st.image.settings().value("WorkingDir", std::string());
    return w.empty() ? "/" : w;
  }

  base::Status workdir(StageState& st, const Instruction& ins) {
    std::string path = TRY(expand(st, ins.raw));
    if (path.empty()) return base::fail_msg("an empty path");
    if (path.front() != '/') path = workdir_of(st) + "/" + path;
    path = clean_absolute(path);
    st.image.settings()["WorkingDir"] = path;
    std::string shown = "WORKDIR " + path;
    // Directories it makes belong to the stage's USER, as BuildKit makes them.
    std::string user = st.image.settings().value("User", std::string());
    uid_t uid = 0;
    gid_t gid = 0;
    if (!user.empty()) {
      SpecPaths accounts;
      read_accounts(st.image.layer_dirs, accounts);
      nlohmann::json ids = TRY(user_of(user, accounts, "USER"));
      uid = ids["uid"].get<uid_t>();
      gid = ids["gid"].get<gid_t>();
    }
    std::vector<std::string> key = {"WORKDIR", path, std::to_string(uid), std::to_string(gid)};
    return layer_step(st, key, shown, [&](StepRoot& root) -> base::Status {
      base::UniqueFd fd = TRY(sys::open(root.rootfs(), O_PATH | O_DIRECTORY));
      return make_directory(fd.get(), path, uid, gid);
    });
  }

  base::Status run(StageState& st, const Instruction& ins) {
    for (const char* flag : {"mount", "security", "device"})
      if (!ins.flag_values(flag).empty() || ins.flag(flag))
        return base::fail_msg(fmt::format("RUN --{} is not supported by berth build yet", flag));
    // The build's network ("default" is none); a step may ask for less.
    std::string network = o_.network == "default" ? "none" : o_.network;
    if (const Flag* n = ins.flag("network")) {
      if (n->value != "none" && n->value != "host" && n->value != "default")
        return base::fail_msg(fmt::format("--network={}: none, host or default", n->value));
      // The Dockerfile may ask for less than the user allowed, never more.
      if (n->value == "host" && o_.network != "host")
        return base::fail_msg(
            "--network=host: not allowed unless berth build is given --network host");
      if (n->value == "none") network = "none";
    }
    RunRequest req;
    if (ins.json) {
      req.args = ins.args;
    } else {
      std::string command = ins.raw;
      // RUN <<EOF: the here-document is the script.
      if (!ins.heredocs.empty()) {
        std::string trimmed = command;
        trimmed.erase(0, trimmed.find_first_not_of(" \t"));
        if (trimmed.rfind("<<", 0) == 0 && trimmed.find(' ') == std::string::npos)
          command = ins.heredocs.front().content;
        else
          return base::fail_msg(
              "RUN with here-documents other than the whole script is not "
              "supported by berth build yet");
      }
      req.args = st.shell;
      req.args.push_back(command);
    }
    if (req.args.empty()) return base::fail_msg("nothing to run");
    req.env = env_list(st.image);
    std::string arg_text;
    for (const auto& arg : st.args) {
      std::string assignment = fmt::format("{}={}", arg.first, arg.second);
      std::string prefix = arg.first + "=";
      bool in_env = std::any_of(req.env.begin(), req.env.end(),
                                [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
      if (!in_env) req.env.push_back(assignment);
      arg_text += " " + assignment;
    }
    if (std::none_of(req.env.begin(), req.env.end(),
                     [](const std::string& e) { return e.rfind("PATH=", 0) == 0; }))
      req.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    req.user = st.image.settings().value("User", std::string());
    req.layers = st.image.layer_dirs;
    req.workdir = workdir_of(st);
    req.network = network;
    req.shown = "RUN " + text_of(req.args);
    std::string created_by =
        (st.args.empty() ? std::string() : fmt::format("|{}{} ", st.args.size(), arg_text)) +
        "RUN " + (ins.json ? text_of(req.args) : req.args.back()) + " # buildkit";
    std::vector<std::string> key_fields = {"RUN",
                                           BuildCache::list_field(req.args),
                                           BuildCache::list_field(req.env),
                                           req.user,
                                           req.workdir,
                                           req.network};
    // docker's predefined proxy ARGs reach RUN from --build-arg without an ARG
    // line, and stay out of the history and the cache key, as docker's.
    for (const char* name : kProxyArgs) {
      auto given = o_.build_args.find(name);
      if (given == o_.build_args.end() || st.args.contains(name)) continue;
      used_arg(name);
      std::string prefix = fmt::format("{}=", name);
      if (std::none_of(req.env.begin(), req.env.end(),
                       [&](const std::string& e) { return e.rfind(prefix, 0) == 0; }))
        req.env.push_back(prefix + given->second);
    }
    return layer_step(st, key_fields, created_by, [&](StepRoot& root) -> base::Status {
      base::UniqueFd fd = TRY(sys::open(root.rootfs(), O_PATH | O_DIRECTORY));
      TRY_STATUS(make_directory(fd.get(), req.workdir));
      int status = TRY(run_in_step(paths_, root, req, o_.quiet ? -1 : STDERR_FILENO));
      TRY_STATUS(not_interrupted());
      if (status != 0)
        return base::fail_msg(fmt::format("{} did not complete successfully: exit code {}",
                                          text_of(req.args), status));
      return {};
    });
  }

  // --chown=user[:group]: numbers, or names in the stage's /etc/passwd and
  // /etc/group. A user alone gives its number as the group too, as docker's
  // reference says.
  static base::Status parse_chown(StageState& st, const std::string& spec, CopyRequest& req) {
    SpecPaths accounts;
    read_accounts(st.image.layer_dirs, accounts);
    nlohmann::json user = TRY(user_of(spec, accounts, "--chown"));
    req.uid = user["uid"].get<uid_t>();
    req.gid = spec.find(':') == std::string::npos ? *req.uid : user["gid"].get<gid_t>();
    return {};
  }

  base::Status copy(const Stage& s, StageState& st, const Instruction& ins) {
    for (const char* flag : {"exclude", "parents", "checksum", "keep-git-dir"})
      if (ins.flag(flag))
        return base::fail_msg(fmt::format("--{} is not supported by berth build yet", flag));
    Variables vars = scope(st);
    // Sources that open a here-document (<<EOF) become files of its body;
    // the other words are expanded as usual.
    std::vector<std::string> words;
    std::vector<HeredocFile> docs;
    for (size_t i = 0; i < ins.args.size(); ++i) {
      const std::string& a = ins.args[i];
      // An opener may carry a descriptor number (2<<EOF), as heredoc.h finds them.
      size_t digits = a.find_first_not_of("0123456789");
      bool opener = digits != std::string::npos && a.compare(digits, 2, "<<") == 0;
      if (i + 1 < ins.args.size() && opener && docs.size() < ins.heredocs.size()) {
        const Heredoc& h = ins.heredocs[docs.size()];
        TRY_STATUS(check_heredoc_name(h.name));
        std::string content =
            h.expand ? TRY(expand_heredoc(h.content, vars, file_.escape)) : h.content;
        docs.push_back({h.name, std::move(content)});
        continue;
      }
      words.push_back(TRY(expand_word(a, vars, file_.escape)));
    }
    if (words.empty() || words.size() + docs.size() < 2)
      return base::fail_msg("needs a source and a destination");
    if (!docs.empty() && ins.flag("from"))
      return base::fail_msg("here-documents and --from do not go together");
    CopyRequest req;
    req.sources.assign(words.begin(), words.end() - 1);
    std::string dest = words.back();
    if (dest.empty()) return base::fail_msg("an empty destination");
    bool dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    if (dest.front() != '/') dest = workdir_of(st) + "/" + dest;
    req.dest = clean_absolute(dest) + (dir && clean_absolute(dest) != "/" ? "/" : "");
    if (ins.keyword == "ADD")
      for (const auto& src : req.sources) {
        if (src.find("://") != std::string::npos)
          return base::fail_msg(fmt::format(
              "{}: berth build has no network to fetch a URL; download it into the context "
              "and COPY it",
              src));
      }
    std::string chown_text, chmod_text;
    if (const Flag* f = ins.flag("chown")) {
      chown_text = TRY(expand_word(f->value, vars, file_.escape));
      TRY_STATUS(parse_chown(st, chown_text, req));
    }
    if (const Flag* f = ins.flag("chmod")) {
      chmod_text = f->value;
      bool octal = !chmod_text.empty() && chmod_text.size() <= 4 &&
                   std::all_of(chmod_text.begin(), chmod_text.end(),
                               [](char c) { return c >= '0' && c <= '7'; });
      if (!octal) return base::fail_msg(fmt::format("--chmod={}: not an octal mode", chmod_text));
      req.mode = static_cast<mode_t>(std::stoul(chmod_text, nullptr, 8));
    }
    // Where the files come from: the context, an earlier stage, or an image.
    std::optional<StepRoot> from_root;
    base::UniqueFd from_fd;
    SourceRoot source;
    std::string from_text;
    if (const Flag* f = ins.flag("from")) {
      from_text = TRY(expand_word(f->value, vars, file_.escape));
      StageImage other;
      if (auto stage = stage_named(from_text, s.index)) {
        if (!has_built(*stage))
          return base::fail_msg(fmt::format(
              "--from={}: that stage was not built (its name came from a variable only this "
              "stage sets)",
              from_text));
        other = built_stage(*stage);
        source.what = "stage " + stages_[*stage].label();
      } else {
        other = TRY(image_named(from_text));
        source.what = "image " + from_text;
      }
      from_root.emplace(TRY(StepRoot::mount(paths_.root, other.layer_dirs)));
      from_fd = TRY(sys::open(from_root->rootfs(), O_PATH | O_DIRECTORY));
      source.fd = from_fd.get();
      from_text += " " + other.chain;
    } else if (!context_) {
      if (!req.sources.empty())
        return base::fail_msg(
            "there is no build context (the Dockerfile came on standard input): nothing to copy");
    } else {
      source.fd = context_.get();
      source.context = true;
      source.real_root = TRY(sys::realpath(o_.context));
      source.ignore = ignore_ ? &*ignore_ : nullptr;
      source.what = "the build context";
    }
    if (req.sources.size() + docs.size() > 1 && !req.dest.ends_with('/'))
      return base::fail_msg(fmt::format(
          "to {}: with more than one source the destination must be a directory ending in /",
          req.dest));
    std::vector<ResolvedSource> sources;
    if (!req.sources.empty()) sources = TRY(resolve_sources(source, req));
    std::string inputs = TRY(digest_sources(source, sources));
    std::vector<std::string> doc_fields;
    for (const auto& d : docs) {
      doc_fields.push_back(d.name);
      doc_fields.push_back(d.content);
    }
    inputs += BuildCache::list_field(doc_fields);
    std::vector<ResolvedSource> archives;
    if (ins.keyword == "ADD") archives = TRY(take_archives(source, sources));
    std::string shown = fmt::format("{} {} {}", ins.keyword, text_of(req.sources), req.dest);
    std::vector<std::string> key_fields = {ins.keyword, BuildCache::list_field(req.sources),
                                           req.dest,    from_text,
                                           chown_text,  chmod_text,
                                           inputs};
    std::string created_by =
        fmt::format("{} {} {} # buildkit", ins.keyword, fmt::join(req.sources, " "), words.back());
    return layer_step(st, key_fields, created_by, [&](StepRoot& root) -> base::Status {
      base::UniqueFd dest = TRY(sys::open(root.rootfs(), O_PATH | O_DIRECTORY));
      if (!sources.empty()) TRY_STATUS(copy_sources(source, sources, req, dest.get()));
      if (!docs.empty())
        TRY_STATUS(copy_heredoc_files(docs, root.dir() + "/heredocs", req, dest.get()));
      return unpack_archives(source, archives, req.dest, dest.get());
    });
  }

  const Paths& paths_;
  const BuildOptions& o_;
  std::FILE* progress_;
  ImageStore store_;
  BuildCache cache_;
  Dockerfile file_;
  base::UniqueFd context_;
  std::optional<Dockerignore> ignore_;
  std::vector<Stage> stages_;
  std::map<size_t, StageImage> built_;
  Variables global_args_;
  std::set<std::string> global_names_;
  std::set<std::string> used_args_;
  // Stages run side by side (stage_scheduler.h): built_ and used_args_ are
  // shared under mutex_; the step counter and the stop flag are atomic.
  std::mutex mutex_;
  std::atomic<size_t> step_no_ = 0;
  std::atomic<bool> stopped_ = false;
};

}  // namespace

base::Result<BuildResult> build_image(const Paths& paths, const BuildOptions& options,
                                      std::FILE* progress) {
  oci::InterruptsKill interrupts;
  Builder b(paths, options, progress);
  return b.run();
}

}  // namespace berth::build
