// Image references as docker writes them: [REGISTRY/]REPOSITORY[:TAG][@DIGEST].
// "busybox" means docker.io/library/busybox:latest; a first component with a
// dot or colon, or "localhost", is a registry.
// Thread-safety: pure functions; plain values.
#pragma once

#include <string>

#include "base/error.h"

namespace berth {

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" unless a digest alone was given
  std::string digest;      // "sha256:..." or ""

  // "docker.io/library/busybox:latest" (and "@digest" when pinned).
  std::string full() const;
  // "docker.io/library/busybox": no tag, no digest.
  std::string name() const { return registry + "/" + repository; }
};

// A full name as docker shows it: "docker.io/library/" and "docker.io/"
// left out ("busybox:latest", "user/app@sha256:..."); others as they are.
std::string familiar_name(const std::string& full_name);

base::Result<Reference> parse_reference(const std::string& text);

}  // namespace berth
