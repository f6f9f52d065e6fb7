// `berth attach`: a client of a running container's monitor (through
// <dir>/attach.sock, attach_point.h, in attach_frames.h): the container's
// output from now on to our stdout and stderr, our stdin to it (when it was
// made with -i, unless no_stdin), until it exits; then its exit status.
// As docker's attach:
//  - a container that is not running, or is paused, is an error;
//  - with a terminal (-t), our stdin must be a terminal too unless no_stdin;
//    it is put in raw mode, our window size follows into the container's,
//    and the detach keys (ctrl-p,ctrl-q) leave it running: "read escape
//    sequence", status 1;
//  - without a terminal, signals we get (INT, TERM, HUP, QUIT, USR1, USR2)
//    go to the container when sig_proxy;
//  - the end of our stdin leaves the container's stdin open.
// Thread-safety: process-wide signal mask and terminal state; one at a time.
#pragma once

#include <string>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

struct AttachOptions {
  bool no_stdin = false;
  bool sig_proxy = true;
  std::string detach_keys = "ctrl-p,ctrl-q";
};

// The container's exit status, or 1 when detached with the keys.
base::Result<int> attach_container(const Paths& p, const std::string& id_or_name,
                                   const AttachOptions& o);

// docker's --detach-keys: "ctrl-p,ctrl-q", "a,ctrl-x" ... -> the bytes.
base::Result<std::string> parse_detach_keys(const std::string& text);

}  // namespace berth
