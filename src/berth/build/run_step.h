// RUN: a command in the step's root (step_root.h), through the oci
// library as berth runs containers (berth-oci's defaults, docker's
// capabilities and seccomp profile, a cgroup), with the stage's Env, User
// and WorkingDir, the ARGs in scope added to its environment, and a network:
// a new empty namespace ("none"), the host's ("host"), or a namespace of its
// own on berth's default bridge ("bridge": a veth, an address and NAT out,
// as a container gets; held by a NetworkLease and detached when the step
// ends). Its output goes to `output_fd` (-1: nowhere). The container is gone
// when it returns.
// Thread-safety: one step at a time per StepRoot.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/build/step_root.h"
#include "berth/container/container_record.h"

namespace berth::build {

struct RunRequest {
  std::vector<std::string> args;    // the program and its arguments
  std::vector<std::string> env;     // NAME=VALUE: the stage's Env, then the ARGs
  std::string user;                 // "" is root
  std::vector<std::string> layers;  // the stage's, lowest first: where user names are found
  std::string workdir;              // absolute; "" is "/"
  std::string network = "none";     // none | bridge | host
  std::string shown;                // the instruction, for messages
};

// The command's exit status (0 on success); an error when it could not run.
base::Result<int> run_in_step(const Paths& paths, StepRoot& step, const RunRequest& req,
                              int output_fd);

}  // namespace berth::build
