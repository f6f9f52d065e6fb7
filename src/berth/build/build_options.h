// What `berth build` is asked to do (its command line, parsed).
// Thread-safety: plain value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "berth/image/layer_compressor.h"

namespace berth::build {

struct BuildOptions {
  std::string context;            // a directory, or "-": the Dockerfile on stdin, no context
  std::string dockerfile;         // -f; "" is <context>/Dockerfile; "-" is stdin
  std::vector<std::string> tags;  // -t, each a full or short name
  std::map<std::string, std::string> build_args;  // --build-arg NAME=VALUE
  std::string target;                             // --target: a stage name
  bool no_cache = false;
  std::string pull = "missing";               // missing | always | never
  std::string platform;                       // "" or linux/amd64: the only one berth runs
  std::string network = "none";               // none | bridge | host: the network RUN steps get
  std::map<std::string, std::string> labels;  // --label, on the final image
  bool quiet = false;                         // -q: only the image id on stdout
  std::string iidfile;                        // --iidfile: the image id written there
  LayerCompression compression = LayerCompression::kGzip;
};

}  // namespace berth::build
