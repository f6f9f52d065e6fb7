// berth-oci: an OCI runtime with runc's command line. Global options come
// before the command, as conmon and containerd's shim pass them:
//   berth-oci [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/berth-oci/commands.h"
#include "oci/state.h"

namespace berth_oci {

void fail(Globals& g, const base::Error& e) {
  std::string msg = e.message();
  std::fprintf(stderr, "berth-oci: %s\n", msg.c_str());
  if (!g.log_file.empty()) {
    if (FILE* f = std::fopen(g.log_file.c_str(), "ae")) {
      std::string line =
          g.log_format == "json"
              ? nlohmann::json{{"level", "error"}, {"msg", msg}, {"time", oci::now_rfc3339()}}
                    .dump()
              : fmt::format("time=\"{}\" level=error msg=\"{}\"", oci::now_rfc3339(), msg);
      std::fprintf(f, "%s\n", line.c_str());
      std::fclose(f);
    }
  }
  g.exit_code = 1;
}

void report(Globals& g, const base::Status& s) {
  if (!s) fail(g, s.error());
}

}  // namespace berth_oci

namespace {

// runc (urfave/cli) also accepts long options with one dash: "-bundle".
std::vector<std::string> normalize(int argc, char** argv) {
  static const char* kLong[] = {"root",
                                "log",
                                "log-format",
                                "debug",
                                "systemd-cgroup",
                                "bundle",
                                "pid-file",
                                "console-socket",
                                "no-pivot",
                                "no-new-keyring",
                                "preserve-fds",
                                "detach",
                                "force",
                                "all",
                                "format",
                                "process",
                                "tty",
                                "cwd",
                                "env",
                                "user",
                                "resources",
                                "stats",
                                "interval",
                                "rootless",
                                "quiet",
                                "cap",
                                "no-new-privs",
                                "additional-gids"};
  std::vector<std::string> out;
  bool options = true;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") options = false;
    if (options && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name =
          a.substr(1, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 1);
      for (const char* l : kLong)
        if (name == l) a.insert(0, "-");
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth_oci;
  // Children are waited for: a SIGCHLD ignored by whoever started us would
  // have the kernel reap them, and every exit status read as a failure.
  ::signal(SIGCHLD, SIG_DFL);
  Globals g;
  CLI::App app{"berth-oci: an OCI container runtime with runc's command line"};
  app.set_version_flag("-v,--version", "berth-oci version 0.1.0\nspec: 1.1.0");
  app.require_subcommand(1);
  app.add_option("--root", g.root, "state directory")->capture_default_str();
  app.add_option("--log", g.log_file, "also write errors to this file");
  app.add_option("--log-format", g.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "more output");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "use systemd for cgroups (not supported)");
  app.add_option("--criu", "accepted for runc compatibility; unused");
  add_create(app, g);
  add_start(app, g);
  add_run(app, g);
  add_state(app, g);
  add_kill(app, g);
  add_delete(app, g);
  add_exec(app, g);
  add_list(app, g);
  add_ps(app, g);
  add_pause_resume(app, g);
  add_update(app, g);
  add_features(app, g);
  add_spec(app, g);
  add_events(app, g);
  app.parse_complete_callback([&] {
    if (g.systemd_cgroup) {
      fail(g, base::Error::msg(
                  "--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs"));
      throw CLI::Success();
    }
  });
  std::vector<std::string> args = normalize(argc, argv);
  std::vector<const char*> cargs;
  cargs.reserve(args.size());
  for (const auto& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::Success& e) {
    if (g.exit_code) return g.exit_code;
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (e.get_exit_code() == 0) return app.exit(e);
    fail(g, base::Error::msg(what));
    return 1;
  } catch (const std::exception& e) {  // a bug, but one line and an exit code, never an abort
    fail(g, base::Error::msg(std::string("internal error: ") + e.what()));
    return 1;
  } catch (...) {
    fail(g, base::Error::msg("internal error: unknown exception"));
    return 1;
  }
  return g.exit_code;
}
