// How berth talks to a given registry, gathered from the store's settings:
//  - <root>/registries.json: {"insecure": ["host:port", ...]} registries
//    reached over plain HTTP or unverified TLS (as docker's insecure-registries);
//  - a CA for a registry's TLS certificate in <root>/certs.d/<host:port>/ca.crt
//    or /etc/berth/certs.d/<host:port>/ca.crt (docker's certs.d layout);
//  - credentials saved by `berth login` (<root>/auth.json).
// Thread-safety: reads files; no shared state.
#pragma once

#include <string>

#include "base/error.h"
#include "berth/registry/registry_client.h"

namespace berth {

// `insecure` (the --insecure flag) adds to what registries.json says. A
// registry on 127.0.0.0/8 or localhost may answer over plain HTTP without
// either (docker's default), but one that serves HTTPS is still verified.
base::Result<RegistryOptions> registry_options(const std::string& root, const std::string& registry,
                                               bool insecure);

}  // namespace berth
