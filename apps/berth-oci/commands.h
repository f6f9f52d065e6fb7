// berth-oci's commands. Each add_* registers one runc-compatible subcommand on
// the app; its callback sets `g.exit_code` (and reports errors through fail()).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "base/error.h"

namespace berth_oci {

struct Globals {
  std::string root = "/run/berth-oci";
  std::string log_file;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  int exit_code = 0;
};

// Reports `e` on stderr and in --log, and sets exit code 1.
void fail(Globals& g, const base::Error& e);
// Reports a Status: nothing when ok.
void report(Globals& g, const base::Status& s);

void add_create(CLI::App& app, Globals& g);
void add_start(CLI::App& app, Globals& g);
void add_run(CLI::App& app, Globals& g);
void add_state(CLI::App& app, Globals& g);
void add_kill(CLI::App& app, Globals& g);
void add_delete(CLI::App& app, Globals& g);
void add_exec(CLI::App& app, Globals& g);
void add_list(CLI::App& app, Globals& g);
void add_ps(CLI::App& app, Globals& g);
void add_pause_resume(CLI::App& app, Globals& g);
void add_update(CLI::App& app, Globals& g);
void add_features(CLI::App& app, Globals& g);
void add_spec(CLI::App& app, Globals& g);
void add_events(CLI::App& app, Globals& g);

}  // namespace berth_oci
