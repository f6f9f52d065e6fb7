// `berth build`: a Dockerfile and its context made into an image, as
// `docker build` makes it.
//
// The stages the target needs are built in order (the target and, through
// FROM <stage> and COPY --from, what it depends on; other stages are
// skipped). Each stage starts from scratch, an earlier stage, or an image of
// the store (pulled first when missing, or always with --pull=always). Its
// instructions then change the image config (ENV, ARG, LABEL, WORKDIR,
// USER, EXPOSE, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, VOLUME, HEALTHCHECK,
// ONBUILD, MAINTAINER) or make a layer (RUN, COPY, WORKDIR's directory):
// a layer step runs in an overlay of the stage's layers (step_root.h), its
// upper directory becomes the layer, and the build cache (build_cache.h)
// reuses a step whose key has not changed. Variables are expanded as
// docker does (word_expansion.h): ENV over ARG, the stage's ARGs from
// --build-arg or their defaults, global ARGs (before the first FROM) in
// FROM lines only unless declared again in the stage.
//
// Not yet: ADD of archives and URLs (refused with a clear message), RUN
// --mount, heredoc files for COPY, ONBUILD triggers of a base image (kept
// in the config, not run), --network bridge, and platforms other than
// linux/amd64.
//
// Progress goes to `progress` in docker's plain style (#N [stage k/n] ...,
// CACHED, DONE s); RUN output too, unless quiet. Errors are one line naming
// the Dockerfile line and the instruction.
// Thread-safety: one build per call; builds in several processes share the
// store and the cache safely.
#pragma once

#include <cstdio>
#include <string>

#include "base/error.h"
#include "berth/build/build_options.h"
#include "berth/container/container_record.h"

namespace berth::build {

struct BuildResult {
  std::string image_id;         // the config digest
  std::string manifest_digest;  //
};

base::Result<BuildResult> build_image(const Paths& paths, const BuildOptions& options,
                                      std::FILE* progress);

}  // namespace berth::build
