// `berth run` and `berth create`: their words read as docker 20.10 reads
// them (berth/docker_args.h) into RunOptions. Every flag docker's `run`
// has is known here. Those berth has become options; the others are refused
// by name, saying why, never misread as the image or the command.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "berth/container/container_spec.h"

namespace berth_cli {

struct RunArgs {
  berth::RunOptions options;
  std::string pull = "missing";  // --pull: missing | always | never
  bool help = false;             // --help: print run_usage() and nothing else
};

// `words` follow the command's name; `is_run` admits -d/--detach (create
// has no use for it, as in docker).
base::Result<RunArgs> read_run_args(std::span<const std::string> words, bool is_run);

std::string run_usage(std::string_view command);

}  // namespace berth_cli
